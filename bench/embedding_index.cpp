// Flat inner-product index at scale: add throughput, search latency and peak memory, as JSON.
//   bench_embedding_index [--rows 1000000] [--dim 512] [--queries 1000] [--k 10] [--device cpu]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "btadapter/metrics/embedding_index.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

torch::Tensor unit_rows(int64_t n, int64_t d, torch::Device device) {
  auto x = torch::randn({n, d}, torch::TensorOptions().device(device));
  return x / x.norm(2, 1, true);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app{"Benchmark of FlatInnerProductIndex"};
    int64_t rows = 1000000, dim = 512, queries = 1000, k = 10, add_batch = 65536;
    std::string device = "cpu";
    app.add_option("--rows", rows, "stored rows");
    app.add_option("--dim", dim, "embedding width");
    app.add_option("--queries", queries, "queries per search call");
    app.add_option("--k", k, "results per query");
    app.add_option("--add-batch", add_batch, "rows per add() call");
    app.add_option("--device", device, "cpu or cuda");
    CLI11_PARSE(app, argc, argv);

    torch::NoGradGuard no_grad;
    torch::manual_seed(0);
    const torch::Device dev(device);
    btadapter::eval::FlatInnerProductIndex index(btadapter::eval::FlatIndexOptions(dim).device(dev));
    auto start = std::chrono::steady_clock::now();
    for (int64_t done = 0; done < rows; done += add_batch) {
      index.add(unit_rows(std::min(add_batch, rows - done), dim, dev));
    }
    const double add_s = seconds_since(start);
    auto q = unit_rows(queries, dim, dev);
    index.search(q.narrow(0, 0, std::min<int64_t>(queries, 8)), k);  // warm-up
    start = std::chrono::steady_clock::now();
    auto result = index.search(q, k);
    const double search_s = seconds_since(start);

    nlohmann::json out = {{"bench", "embedding_index"},
                          {"device", device},
                          {"torch_threads", torch::get_num_threads()},
                          {"rows", rows},
                          {"dim", dim},
                          {"queries", queries},
                          {"k", k},
                          {"add_seconds_incl_generation", add_s},
                          {"search_seconds", search_s},
                          {"queries_per_second", queries / search_s},
                          {"row_scores_per_second", double(queries) * rows / search_s},
                          {"peak_rss_mib", peak_rss_mib()},
                          {"index_mib", rows * dim * 4.0 / (1 << 20)},
                          {"first_id", result.ids[0][0].item<int64_t>()}};
    std::cout << out.dump(2) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_embedding_index: " << e.what() << std::endl;
    return 1;
  }
}
