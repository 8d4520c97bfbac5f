// Retrieval metrics on dataset-sized matrices (MSR-VTT 1k, ANet 4917), as JSON.
//   bench_retrieval_metrics [--n 4917] [--repeats 3]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "btadapter/metrics/retrieval_metrics.h"

int main(int argc, char** argv) {
  try {
    CLI::App app{"Benchmark of compute_retrieval_metrics"};
    int64_t n = 4917, repeats = 3;
    app.add_option("--n", n, "texts = videos");
    app.add_option("--repeats", repeats, "timed repetitions (best is reported)");
    CLI11_PARSE(app, argc, argv);

    torch::manual_seed(0);
    auto sim = torch::randn({n, n}).div(10);
    nlohmann::json out = {{"bench", "retrieval_metrics"}, {"n", n}, {"torch_threads", torch::get_num_threads()}};
    using btadapter::eval::RetrievalMetricsOptions;
    for (auto [name, options] : {std::pair{"default", RetrievalMetricsOptions()},
                                 std::pair{"dsl", RetrievalMetricsOptions().dual_softmax(true)},
                                 std::pair{"official_compat", RetrievalMetricsOptions().official_compat(true)}}) {
      double best = 1e30;
      for (int64_t r = 0; r < repeats; ++r) {
        auto start = std::chrono::steady_clock::now();
        btadapter::eval::compute_retrieval_metrics(sim, options);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      out[std::string(name) + "_seconds"] = best;
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_retrieval_metrics: " << e.what() << std::endl;
    return 1;
  }
}
