#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "btadapter/metrics/embedding_index.h"
#include "support/test_support.h"

using namespace btadapter::eval;
using btadapter::testing::expect_error;
namespace io = btadapter::io;

namespace {

// Rows with entries +-1/4 in D = 16: unit norm exactly, inner products exact multiples of 1/8 whatever
// the summation order, and only 17 possible scores, so ties are everywhere.
torch::Tensor dyadic_rows(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, 2, {n, 16}, torch::kLong).to(torch::kFloat).mul(0.5).sub(0.25);
}

torch::Tensor normal_rows(int64_t n, int64_t d, uint64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({n, d});
  return x / x.norm(2, 1, true);
}

// Brute force in float64: every score, stable-sorted descending (ties keep insertion order).
SearchResult brute_force(const torch::Tensor& rows, const torch::Tensor& ids, const torch::Tensor& queries, int64_t k) {
  auto r = rows.to(torch::kDouble).contiguous();
  auto q = queries.to(torch::kDouble).contiguous();
  SearchResult out{torch::full({q.size(0), k}, -std::numeric_limits<float>::infinity()),
                   torch::full({q.size(0), k}, -1, torch::kLong)};
  auto ra = r.accessor<double, 2>();
  auto qa = q.accessor<double, 2>();
  for (int64_t i = 0; i < q.size(0); ++i) {
    std::vector<std::pair<double, int64_t>> all;
    for (int64_t j = 0; j < r.size(0); ++j) {
      double dot = 0;
      for (int64_t c = 0; c < r.size(1); ++c) dot += qa[i][c] * ra[j][c];
      all.emplace_back(dot, j);
    }
    std::stable_sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (int64_t s = 0; s < std::min<int64_t>(k, all.size()); ++s) {
      out.scores[i][s] = all[s].first;
      out.ids[i][s] = ids[all[s].second].item<int64_t>();
    }
  }
  return out;
}

}  // namespace

TEST(EmbeddingIndex, ExactAgreementWithBruteForceOnTiedScores) {
  auto rows = dyadic_rows(500, 1);
  auto ids = torch::arange(500, torch::kLong) * 3 + 1000;
  auto queries = dyadic_rows(23, 2);
  // Small blocks so that the running merge crosses many blocks and query blocks.
  FlatInnerProductIndex index(FlatIndexOptions(16).block_rows(37).query_block(5));
  for (int64_t begin = 0; begin < 500; begin += 120) {  // several add() calls of uneven size
    const int64_t len = std::min<int64_t>(120, 500 - begin);
    index.add(rows.narrow(0, begin, len), ids.narrow(0, begin, len));
  }
  EXPECT_EQ(index.size(), 500);
  for (int64_t k : {1, 7, 40, 500}) {
    auto got = index.search(queries, k);
    auto want = brute_force(rows, ids, queries, k);
    EXPECT_TRUE(torch::equal(got.ids, want.ids)) << "k = " << k;
    EXPECT_TRUE(torch::equal(got.scores, want.scores)) << "k = " << k;
  }
  EXPECT_TRUE(torch::equal(index.embeddings(), rows));
  EXPECT_TRUE(torch::equal(index.ids(), ids));
}

TEST(EmbeddingIndex, AgreesWithBruteForceOnRandomRows) {
  auto rows = normal_rows(300, 24, 3);
  auto queries = normal_rows(9, 24, 4);
  FlatInnerProductIndex index(FlatIndexOptions(24).block_rows(64));
  index.add(rows);
  auto got = index.search(queries, 12);
  auto want = brute_force(rows, torch::arange(300, torch::kLong), queries, 12);
  EXPECT_TRUE(torch::equal(got.ids, want.ids));
  BT_EXPECT_CLOSE(got.scores, want.scores, 1e-6, 0);
}

TEST(EmbeddingIndex, IdenticalRowsComeBackInInsertionOrder) {
  auto row = torch::zeros({1, 4});
  row[0][2] = 1;
  FlatInnerProductIndex index(FlatIndexOptions(4).block_rows(3));
  index.add(row.repeat({8, 1}), torch::tensor({70, 60, 50, 40, 30, 20, 10, 0}, torch::kLong));
  auto got = index.search(row, 5);
  EXPECT_TRUE(torch::equal(got.ids, torch::tensor({{70, 60, 50, 40, 30}}, torch::kLong)));
  EXPECT_TRUE(torch::equal(got.scores, torch::ones({1, 5})));
}

TEST(EmbeddingIndex, KLargerThanSizeIsPadded) {
  FlatInnerProductIndex index(FlatIndexOptions(16));
  auto rows = dyadic_rows(3, 5);
  index.add(rows);
  auto got = index.search(rows.narrow(0, 0, 1), 5);
  ASSERT_EQ(got.ids.sizes(), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(got.ids[0][0].item<int64_t>(), 0);
  EXPECT_EQ(got.scores[0][0].item<float>(), 1.0f);
  EXPECT_TRUE(torch::equal(got.ids.narrow(1, 3, 2), torch::full({1, 2}, -1, torch::kLong)));
  EXPECT_TRUE(torch::isinf(got.scores.narrow(1, 3, 2)).all().item<bool>());
  EXPECT_LT(got.scores[0][4].item<float>(), 0);
}

TEST(EmbeddingIndex, EmptyIndexAndEmptyQueries) {
  FlatInnerProductIndex index(FlatIndexOptions(16));
  EXPECT_EQ(index.size(), 0);
  auto got = index.search(dyadic_rows(2, 6), 3);
  EXPECT_TRUE(torch::equal(got.ids, torch::full({2, 3}, -1, torch::kLong)));
  index.add(dyadic_rows(4, 7));
  auto none = index.search(torch::empty({0, 16}), 3);
  EXPECT_EQ(none.ids.sizes(), (std::vector<int64_t>{0, 3}));
  index.add(torch::empty({0, 16}));
  EXPECT_EQ(index.size(), 4);
  EXPECT_EQ(index.embeddings().sizes(), (std::vector<int64_t>{4, 16}));
}

TEST(EmbeddingIndex, ResetForgetsRowsAndRestartsIds) {
  FlatInnerProductIndex index(FlatIndexOptions(16).block_rows(2));
  index.add(dyadic_rows(5, 8));
  index.reset();
  EXPECT_EQ(index.size(), 0);
  EXPECT_EQ(index.embeddings().sizes(), (std::vector<int64_t>{0, 16}));
  auto rows = dyadic_rows(3, 9);
  index.add(rows);
  EXPECT_TRUE(torch::equal(index.ids(), torch::arange(3, torch::kLong)));
  EXPECT_EQ(index.search(rows.narrow(0, 2, 1), 1).scores[0][0].item<float>(), 1.0f);
}

TEST(EmbeddingIndex, BadInputIsNamed) {
  FlatInnerProductIndex index(FlatIndexOptions(16));
  expect_error([&] { index.add(dyadic_rows(2, 1).to(torch::kHalf)); }, "expected float32 embeddings, got Half");
  expect_error([&] { index.add(torch::ones({2, 8})); }, "expected embeddings of shape [n, 16], got [2, 8]");
  auto rows = dyadic_rows(4, 1);
  rows[2] *= 2;
  expect_error([&] { index.add(rows); }, "got norm 2 at row 2");
  expect_error([&] { index.add(dyadic_rows(2, 1), torch::tensor({0, -1}, torch::kLong)); }, "expected ids >= 0");
  expect_error([&] { index.add(dyadic_rows(2, 1), torch::tensor({0}, torch::kLong)); },
               "expected ids of shape [2], got [1]");
  EXPECT_EQ(index.size(), 0) << "nothing is added when a check fails";
  expect_error([&] { index.search(dyadic_rows(1, 1), 0); }, "expected k >= 1, got 0");
  auto nan_query = dyadic_rows(1, 1);
  nan_query[0][0] = std::nan("");
  expect_error([&] { index.search(nan_query, 1); }, "expected L2-normalised queries");
}

TEST(EmbeddingIndex, ConcurrentSearchesMatchSerialOnes) {
  FlatInnerProductIndex index(FlatIndexOptions(16).block_rows(50));
  index.add(dyadic_rows(400, 10));
  std::vector<torch::Tensor> queries;
  std::vector<SearchResult> serial;
  for (int t = 0; t < 4; ++t) {
    queries.push_back(dyadic_rows(30, 20 + t));
    serial.push_back(index.search(queries.back(), 9));
  }
  std::vector<SearchResult> parallel(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 5; ++repeat) parallel[t] = index.search(queries[t], 9);
    });
  }
  // A writer in the middle: searches see the index before or after the add, never half of it.
  index.add(dyadic_rows(10, 30));
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    auto after = index.search(queries[t], 9);
    EXPECT_TRUE(torch::equal(parallel[t].ids, serial[t].ids) || torch::equal(parallel[t].ids, after.ids));
  }
  EXPECT_EQ(index.size(), 410);
}

TEST(EmbeddingIndex, SafetensorsRoundTrip) {
  btadapter::testing::TempDir dir;
  const auto path = (dir / "videos.index.safetensors").string();
  FlatInnerProductIndex index(FlatIndexOptions(16).block_rows(7));
  auto rows = dyadic_rows(30, 11);
  auto ids = torch::arange(30, torch::kLong).flip(0) * 10;
  index.add(rows, ids);
  write_index(index, path, {{"dataset", "msrvtt-1ka"}, {"model_sha256", "abc"}});
  io::Metadata meta;
  auto back = read_index(path, torch::kCPU, &meta);
  EXPECT_EQ(back->size(), 30);
  EXPECT_EQ(back->dim(), 16);
  EXPECT_EQ(meta.at("dataset"), "msrvtt-1ka");
  EXPECT_EQ(meta.at("index_type"), "flat_ip");
  EXPECT_EQ(meta.at("count"), "30");
  auto queries = dyadic_rows(6, 12);
  auto a = index.search(queries, 8), b = back->search(queries, 8);
  EXPECT_TRUE(torch::equal(a.ids, b.ids));
  EXPECT_TRUE(torch::equal(a.scores, b.scores));

  FlatInnerProductIndex empty(FlatIndexOptions(16));
  write_index(empty, (dir / "empty.safetensors").string());
  EXPECT_EQ(read_index((dir / "empty.safetensors").string())->size(), 0);
}

TEST(EmbeddingIndex, CorruptOrForeignFilesAreNamed) {
  btadapter::testing::TempDir dir;
  FlatInnerProductIndex index(FlatIndexOptions(16));
  index.add(dyadic_rows(3, 13));
  expect_error([&] { write_index(index, (dir / "x").string(), {{"dim", "3"}}); }, "metadata key 'dim' is reserved");

  const auto foreign = (dir / "weights.safetensors").string();
  io::write_safetensors(foreign, {{"embeddings", torch::zeros({2, 2})}}, {{"format", "pt"}});
  expect_error([&] { read_index(foreign); },
               "expected format 'btadapter.embedding_index' in '" + foreign + "', got 'pt'");

  const auto wrong_shape = (dir / "shape.safetensors").string();
  io::write_safetensors(wrong_shape, {{"embeddings", dyadic_rows(3, 1)}, {"ids", torch::arange(2, torch::kLong)}},
                        {{"format", "btadapter.embedding_index"}, {"format_version", "1"}, {"index_type", "flat_ip"},
                         {"dim", "16"}, {"count", "3"}});
  expect_error([&] { read_index(wrong_shape); }, "expected 'ids' of shape [3]");

  const auto unnormalised = (dir / "norm.safetensors").string();
  io::write_safetensors(unnormalised, {{"embeddings", torch::ones({2, 16})}, {"ids", torch::arange(2, torch::kLong)}},
                        {{"format", "btadapter.embedding_index"}, {"format_version", "1"}, {"index_type", "flat_ip"},
                         {"dim", "16"}, {"count", "2"}});
  expect_error([&] { read_index(unnormalised); },
               "read_index: '" + unnormalised + "': expected L2-normalised embeddings");

  const auto truncated = (dir / "cut.safetensors").string();
  write_index(index, truncated);
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) - 9);
  expect_error([&] { read_index(truncated); }, "cut.safetensors");
}

TEST(EmbeddingIndex, GpuIndexMatchesCpu_CUDA) {
  BT_SKIP_WITHOUT_CUDA();
  auto rows = dyadic_rows(2000, 14);
  auto queries = dyadic_rows(40, 15);
  FlatInnerProductIndex cpu(FlatIndexOptions(16).block_rows(300));
  FlatInnerProductIndex gpu(FlatIndexOptions(16).block_rows(300).device(torch::kCUDA));
  cpu.add(rows);
  gpu.add(rows.cuda());
  auto a = cpu.search(queries, 25), b = gpu.search(queries.cuda(), 25);
  EXPECT_TRUE(b.ids.device().is_cpu());
  EXPECT_TRUE(torch::equal(a.ids, b.ids));
  EXPECT_TRUE(torch::equal(a.scores, b.scores));
}
