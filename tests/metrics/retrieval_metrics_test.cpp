#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "btadapter/metrics/retrieval_metrics.h"
#include "support/test_support.h"

using namespace btadapter::eval;
using btadapter::testing::expect_error;

namespace {

// Scores drawn from a few levels so that exact ties are everywhere.
torch::Tensor tied_matrix(int64_t rows, int64_t cols, int64_t levels, torch::ScalarType dtype, uint64_t seed) {
  torch::manual_seed(seed);
  return (torch::randint(0, levels, {rows, cols}, torch::kLong).to(torch::kDouble) / levels * 0.7 - 0.2).to(dtype);
}

// Every video gets at least one text; the rest are spread at random.
torch::Tensor random_ground_truth(int64_t texts, int64_t videos, uint64_t seed) {
  torch::manual_seed(seed);
  auto gt = torch::randint(0, videos, {texts}, torch::kLong);
  gt.narrow(0, 0, videos).copy_(torch::randperm(videos, torch::kLong));
  return gt.index_select(0, torch::randperm(texts, torch::kLong));
}

std::vector<double> to_doubles(const torch::Tensor& t) {
  auto c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Brute force in plain float64 loops: rank of the best correct candidate among `scores`.
int64_t brute_rank(const std::vector<double>& scores, const std::set<int64_t>& correct, TieMode ties) {
  double best = -1e300;
  for (int64_t c : correct) best = std::max(best, scores[c]);
  int64_t rank = 1;
  for (int64_t j = 0; j < static_cast<int64_t>(scores.size()); ++j) {
    if (correct.count(j)) continue;
    if (scores[j] > best || (ties == TieMode::kPessimistic && scores[j] == best)) ++rank;
  }
  return rank;
}

std::vector<int64_t> brute_t2v(const torch::Tensor& sim, const torch::Tensor& gt, TieMode ties) {
  std::vector<int64_t> ranks;
  for (int64_t t = 0; t < sim.size(0); ++t) {
    ranks.push_back(brute_rank(to_doubles(sim[t]), {gt[t].item<int64_t>()}, ties));
  }
  return ranks;
}

std::vector<int64_t> brute_v2t(const torch::Tensor& sim, const torch::Tensor& gt, TieMode ties) {
  std::vector<int64_t> ranks;
  for (int64_t v = 0; v < sim.size(1); ++v) {
    std::set<int64_t> correct;
    for (int64_t t = 0; t < sim.size(0); ++t) {
      if (gt[t].item<int64_t>() == v) correct.insert(t);
    }
    ranks.push_back(brute_rank(to_doubles(sim.select(1, v)), correct, ties));
  }
  return ranks;
}

// Summary computed independently, with the textbook formulas.
void expect_summary(const RankSummary& s, std::vector<int64_t> ranks) {
  const double n = static_cast<double>(ranks.size());
  ASSERT_EQ(s.num_queries, static_cast<int64_t>(ranks.size()));
  for (auto [k, value] : s.recall) {
    double hits = static_cast<double>(std::count_if(ranks.begin(), ranks.end(), [k = k](int64_t r) { return r <= k; }));
    EXPECT_NEAR(value, 100.0 * hits / n, 1e-12) << "R@" << k;
  }
  std::sort(ranks.begin(), ranks.end());
  const size_t m = ranks.size() / 2;
  const double median = ranks.size() % 2 ? ranks[m] : 0.5 * (ranks[m - 1] + ranks[m]);
  EXPECT_DOUBLE_EQ(s.median_rank, median);
  EXPECT_NEAR(s.mean_rank, std::accumulate(ranks.begin(), ranks.end(), 0.0) / n, 1e-12);
}

std::vector<int64_t> as_vector(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// A direct port of the official numpy code, in the input's own precision:
//   sx = np.sort(-sim); d = np.diag(-sim); ind = np.where((sx - d[:, None]) == 0)[1]
template <typename T>
std::vector<int64_t> numpy_official_ind(const torch::Tensor& sim) {
  auto neg = (-sim).contiguous();
  std::vector<int64_t> ind;
  for (int64_t i = 0; i < sim.size(0); ++i) {
    const T* row = neg.data_ptr<T>() + i * sim.size(1);
    std::vector<T> sx(row, row + sim.size(1));
    std::sort(sx.begin(), sx.end());
    const T d = row[i];
    for (int64_t j = 0; j < sim.size(1); ++j) {
      if (static_cast<T>(sx[j] - d) == T(0)) ind.push_back(j);
    }
  }
  return ind;
}

void expect_official_numbers(const RetrievalMetrics& m, std::vector<int64_t> ind) {
  const double n = static_cast<double>(ind.size());
  auto mean_of = [&](auto pred) {
    return static_cast<double>(std::count_if(ind.begin(), ind.end(), pred)) / n;
  };
  EXPECT_EQ(m.t2v.num_queries, static_cast<int64_t>(ind.size()));
  EXPECT_EQ(m.t2v.recall_at(1), mean_of([](int64_t i) { return i == 0; }) * 100);
  EXPECT_EQ(m.t2v.recall_at(5), mean_of([](int64_t i) { return i < 5; }) * 100);
  EXPECT_EQ(m.t2v.recall_at(10), mean_of([](int64_t i) { return i < 10; }) * 100);
  EXPECT_EQ(m.t2v.mean_rank, std::accumulate(ind.begin(), ind.end(), 0.0) / n + 1);
  std::sort(ind.begin(), ind.end());
  const size_t h = ind.size() / 2;
  const double median = ind.size() % 2 ? double(ind[h]) : (double(ind[h - 1]) + double(ind[h])) / 2;
  EXPECT_EQ(m.t2v.median_rank, median + 1);
}

}  // namespace

TEST(RetrievalMetrics, PerfectDiagonal) {
  auto sim = torch::tensor({0.9, 0.1, 0.2, 0.3, 0.8, 0.1, 0.2, 0.1, 0.7}).view({3, 3});
  auto m = compute_retrieval_metrics(sim);
  EXPECT_EQ(m.t2v.recall_at(1), 100.0);
  EXPECT_EQ(m.t2v.median_rank, 1.0);
  EXPECT_EQ(m.t2v.mean_rank, 1.0);
  ASSERT_TRUE(m.v2t.has_value());
  EXPECT_EQ(m.v2t->recall_at(1), 100.0);
  EXPECT_EQ(m.protocol(), "t2v+v2t, ties=pessimistic, dsl=off");
}

TEST(RetrievalMetrics, HandMadeTies) {
  // Row 0: its video ties with video 1; row 1: video 2 scores higher; row 2: all three tie.
  auto sim = torch::tensor({1.0, 1.0, 0.0, 0.0, 1.0, 2.0, 5.0, 5.0, 5.0}).view({3, 3});
  auto pess = compute_retrieval_metrics(sim);
  EXPECT_EQ(as_vector(pess.t2v_ranks), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(as_vector(pess.v2t_ranks), (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(pess.t2v.recall_at(1), 0.0);
  EXPECT_EQ(pess.t2v.median_rank, 2.0);
  EXPECT_DOUBLE_EQ(pess.t2v.mean_rank, 7.0 / 3.0);

  auto opt = compute_retrieval_metrics(sim, RetrievalMetricsOptions().ties(TieMode::kOptimistic));
  EXPECT_EQ(as_vector(opt.t2v_ranks), (std::vector<int64_t>{1, 2, 1}));
  EXPECT_EQ(as_vector(opt.v2t_ranks), (std::vector<int64_t>{2, 2, 1}));
  EXPECT_DOUBLE_EQ(opt.t2v.recall_at(1), 200.0 / 3.0);

  // Official: ind = [0, 1 | 1 | 0, 1, 2], six entries for three texts.
  auto off = compute_retrieval_metrics(sim, RetrievalMetricsOptions().official_compat(true));
  EXPECT_EQ(as_vector(off.t2v_ranks - 1), (std::vector<int64_t>{0, 1, 1, 0, 1, 2}));
  EXPECT_EQ(off.t2v.num_queries, 6);
  EXPECT_DOUBLE_EQ(off.t2v.recall_at(1), 100.0 / 3.0);
  EXPECT_EQ(off.t2v.median_rank, 2.0);
  EXPECT_DOUBLE_EQ(off.t2v.mean_rank, 5.0 / 6.0 + 1.0);
  EXPECT_FALSE(off.v2t.has_value());
  EXPECT_EQ(off.protocol(), "official-compat t2v (ties inflate the count), dsl=off");
}

TEST(RetrievalMetrics, ConstantMatrixIsWorstWhenPessimistic) {
  auto sim = torch::full({4, 4}, 0.5);
  auto pess = compute_retrieval_metrics(sim);
  EXPECT_EQ(pess.t2v.recall_at(1), 0.0);
  EXPECT_EQ(pess.t2v.median_rank, 4.0);
  EXPECT_EQ(pess.v2t->mean_rank, 4.0);
  auto opt = compute_retrieval_metrics(sim, RetrievalMetricsOptions().ties(TieMode::kOptimistic));
  EXPECT_EQ(opt.t2v.recall_at(1), 100.0);
  // The official formula counts 16 entries {0,1,2,3} x 4: R@1 25, MdR median(ind)+1 = 2.5.
  auto off = compute_retrieval_metrics(sim, RetrievalMetricsOptions().official_compat(true));
  EXPECT_EQ(off.t2v.recall_at(1), 25.0);
  EXPECT_EQ(off.t2v.median_rank, 2.5);
  EXPECT_EQ(off.t2v.mean_rank, 2.5);
}

TEST(RetrievalMetrics, SeveralTextsPerVideo) {
  auto sim = torch::tensor({0.2, 0.9, 0.8, 0.1, 0.5, 0.3, 0.4, 0.6}).view({4, 2});
  auto gt = torch::tensor({0, 0, 1, 1}, torch::kLong);
  auto m = compute_retrieval_metrics(sim, gt);
  EXPECT_EQ(as_vector(m.t2v_ranks), (std::vector<int64_t>{2, 1, 2, 1}));
  // Video 0: best correct text scores 0.8 -> rank 1. Video 1: best correct 0.6, beaten by text 0's 0.9.
  EXPECT_EQ(as_vector(m.v2t_ranks), (std::vector<int64_t>{1, 2}));

  // Correct texts tied with the best correct text are not counted against it.
  auto tied = torch::tensor({0.5, 0.1, 0.5, 0.2, 0.5, 0.9}).view({3, 2});
  auto tied_gt = torch::tensor({0, 0, 1}, torch::kLong);
  EXPECT_EQ(as_vector(video_to_text_ranks(tied, tied_gt)), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(as_vector(video_to_text_ranks(tied, tied_gt, TieMode::kOptimistic)), (std::vector<int64_t>{1, 1}));
}

TEST(RetrievalMetrics, MatchesBruteForceWithPlantedTies) {
  int seed = 0;
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    for (auto ties : {TieMode::kPessimistic, TieMode::kOptimistic}) {
      for (auto [texts, videos, levels] :
           std::vector<std::tuple<int64_t, int64_t, int64_t>>{{40, 40, 3}, {57, 23, 5}, {64, 64, 50}, {31, 1, 2}}) {
        SCOPED_TRACE(::testing::Message() << "dtype " << dtype << " ties " << btadapter::enum_name(ties) << " " << texts
                                          << "x" << videos << " levels " << levels);
        auto sim = tied_matrix(texts, videos, levels, dtype, ++seed);
        auto gt = texts == videos ? diagonal_ground_truth(texts) : random_ground_truth(texts, videos, ++seed);
        auto opts = RetrievalMetricsOptions().ties(ties).recall_ks({1, 2, 5, 10, 50});
        auto m = compute_retrieval_metrics(sim, gt, opts);
        auto t2v = brute_t2v(sim, gt, ties);
        auto v2t = brute_v2t(sim, gt, ties);
        EXPECT_EQ(as_vector(m.t2v_ranks), t2v);
        EXPECT_EQ(as_vector(m.v2t_ranks), v2t);
        expect_summary(m.t2v, t2v);
        expect_summary(*m.v2t, v2t);
      }
    }
  }
}

TEST(RetrievalMetrics, OfficialCompatMatchesNumpyPortWithTies) {
  for (int64_t levels : {2, 4, 1000}) {
    auto sim64 = tied_matrix(50, 50, levels, torch::kDouble, 100 + levels);
    expect_official_numbers(compute_retrieval_metrics(sim64, RetrievalMetricsOptions().official_compat(true)),
                            numpy_official_ind<double>(sim64));
    // float32 similarities as the official code has them (random normal values plus planted copies).
    torch::manual_seed(levels);
    auto sim32 = torch::randn({50, 50}).div(10);
    sim32.narrow(1, 0, 25).copy_(sim32.narrow(1, 25, 25).round().div(4));
    sim32.narrow(0, 0, 10).copy_(sim32.narrow(0, 10, 10));
    auto m = compute_retrieval_metrics(sim32, RetrievalMetricsOptions().official_compat(true));
    auto ind = numpy_official_ind<float>(sim32);
    EXPECT_GT(ind.size(), 50u) << "the fixture must have ties";
    expect_official_numbers(m, ind);
  }
}

TEST(RetrievalMetrics, OfficialCompatWithoutTiesEqualsHonestRanks) {
  torch::manual_seed(7);
  auto sim = torch::randn({30, 30}, torch::kDouble);
  auto off = compute_retrieval_metrics(sim, RetrievalMetricsOptions().official_compat(true));
  auto honest = compute_retrieval_metrics(sim);
  EXPECT_TRUE(torch::equal(off.t2v_ranks, honest.t2v_ranks));
  EXPECT_EQ(off.t2v.recall, honest.t2v.recall);
  EXPECT_EQ(off.t2v.median_rank, honest.t2v.median_rank);
  EXPECT_EQ(off.t2v.mean_rank, honest.t2v.mean_rank);
}

TEST(RetrievalMetrics, DualSoftmaxFixesAHubVideo) {
  // Video 0 attracts both texts; normalised over the texts, text 1 prefers video 1.
  auto sim = torch::tensor({0.9, 0.1, 0.8, 0.7}).view({2, 2});
  EXPECT_EQ(as_vector(compute_retrieval_metrics(sim).t2v_ranks), (std::vector<int64_t>{1, 2}));
  auto m = compute_retrieval_metrics(sim, RetrievalMetricsOptions().dual_softmax(true));
  EXPECT_EQ(as_vector(m.t2v_ranks), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(m.protocol(), "t2v+v2t, ties=pessimistic, dsl=on(T=100)");
}

TEST(RetrievalMetrics, DualSoftmaxMatchesDefinitionInFloat64) {
  auto sim = tied_matrix(20, 30, 7, torch::kFloat, 3);
  auto w = dual_softmax(sim, 0, 100.0);
  EXPECT_EQ(w.scalar_type(), torch::kDouble);
  auto s = sim.to(torch::kDouble);
  for (int64_t t = 0; t < 20; t += 7) {
    for (int64_t v = 0; v < 30; v += 5) {
      double denom = 0;
      for (int64_t u = 0; u < 20; ++u) denom += std::exp(100 * (s[u][v].item<double>() - s[t][v].item<double>()));
      EXPECT_NEAR(w[t][v].item<double>(), s[t][v].item<double>() / denom, 1e-12);
    }
  }
  // The ranks come from the re-weighted matrices, one per direction.
  auto gt = random_ground_truth(20, 20, 4);
  auto sq = tied_matrix(20, 20, 7, torch::kDouble, 5);
  auto m = compute_retrieval_metrics(sq, gt, RetrievalMetricsOptions().dual_softmax(true));
  EXPECT_EQ(as_vector(m.t2v_ranks), brute_t2v(dual_softmax(sq, 0), gt, TieMode::kPessimistic));
  EXPECT_EQ(as_vector(m.v2t_ranks), brute_v2t(dual_softmax(sq, 1), gt, TieMode::kPessimistic));
}

TEST(RetrievalMetrics, BadInputIsNamed) {
  auto sim = torch::zeros({3, 3});
  sim[1][2] = std::nan("");
  expect_error([&] { compute_retrieval_metrics(sim); }, "expected finite similarities, got nan at row 1, column 2");
  expect_error([] { compute_retrieval_metrics(torch::zeros({2, 3})); }, "expected a square similarity matrix");
  auto gt = torch::tensor({0, 3}, torch::kLong);
  expect_error(
      [&] {
        compute_retrieval_metrics(torch::zeros({2, 3}), gt);
      },
      "expected text_to_video values in [0, 3) (video indices), got values in [0, 3]");
  auto no_text = torch::tensor({0, 0}, torch::kLong);
  expect_error([&] { compute_retrieval_metrics(torch::zeros({2, 3}), no_text); }, "without any (first: video 1)");
  // Distractor videos are fine for t2v alone.
  auto m = compute_retrieval_metrics(torch::eye(2, 3), no_text, RetrievalMetricsOptions().video_to_text(false));
  EXPECT_FALSE(m.v2t.has_value());
  EXPECT_EQ(m.protocol(), "t2v, ties=pessimistic, dsl=off");
  expect_error([] { compute_retrieval_metrics(torch::zeros({2, 2}, torch::kLong)); }, "float32 or float64");
}

TEST(RetrievalMetrics, SummaryFollowsNumpy) {
  auto s = summarize_ranks(torch::tensor({1, 3, 2, 10}, torch::kLong), {1, 3});
  EXPECT_EQ(s.recall_at(1), 25.0);
  EXPECT_EQ(s.recall_at(3), 75.0);
  EXPECT_EQ(s.median_rank, 2.5);
  EXPECT_EQ(s.mean_rank, 4.0);
  expect_error([&] { s.recall_at(5); }, "expected R@5 to have been computed");
  expect_error([] { summarize_ranks(torch::tensor({0}, torch::kLong)); }, "expected ranks >= 1, got 0");
  EXPECT_EQ(btadapter::enum_from_name<TieMode>("optimistic"), TieMode::kOptimistic);
  expect_error([] { btadapter::enum_from_name<TieMode>("fair"); }, "'fair'");
}

TEST(RetrievalMetrics, SameOnGpu_CUDA) {
  BT_SKIP_WITHOUT_CUDA();
  auto sim = tied_matrix(300, 200, 9, torch::kFloat, 11);
  auto gt = random_ground_truth(300, 200, 12);
  auto cpu = compute_retrieval_metrics(sim, gt);
  auto gpu = compute_retrieval_metrics(sim.cuda(), gt.cuda());
  EXPECT_TRUE(torch::equal(cpu.t2v_ranks, gpu.t2v_ranks));
  EXPECT_TRUE(torch::equal(cpu.v2t_ranks, gpu.v2t_ranks));
  EXPECT_TRUE(torch::equal(official_t2v_indices(sim, gt), official_t2v_indices(sim.cuda(), gt.cuda())));
  // exp() may differ in the last bit between devices, so DSL ranks are compared loosely.
  auto opts = RetrievalMetricsOptions().dual_softmax(true);
  auto dsl_cpu = compute_retrieval_metrics(sim, gt, opts);
  auto dsl_gpu = compute_retrieval_metrics(sim.cuda(), gt.cuda(), opts);
  EXPECT_LE(dsl_cpu.t2v_ranks.ne(dsl_gpu.t2v_ranks).sum().item<int64_t>(), 3);
  EXPECT_LE(dsl_cpu.v2t_ranks.ne(dsl_gpu.v2t_ranks).sum().item<int64_t>(), 3);
}
