#include <gtest/gtest.h>

#include <map>

#include "btadapter/metrics/recognition_metrics.h"
#include "support/test_support.h"

using namespace btadapter::eval;
using btadapter::testing::expect_error;

namespace {

struct BruteForce {
  std::map<int64_t, double> top_k;
  double mean_class = 0;
};

// Plain loops in float64: a sample is correct at K when fewer than K wrong classes are ahead of it.
BruteForce brute_force(const torch::Tensor& scores, const torch::Tensor& labels, std::vector<int64_t> ks,
                       TieMode ties) {
  auto s = scores.to(torch::kDouble).contiguous();
  const int64_t n = s.size(0), c = s.size(1);
  std::map<int64_t, int64_t> hits;
  std::map<int64_t, std::pair<int64_t, int64_t>> per_class;  // label -> (top-1 hits, count)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = labels[i].item<int64_t>();
    const double* row = s.data_ptr<double>() + i * c;
    int64_t ahead = 0;
    for (int64_t j = 0; j < c; ++j) {
      if (j != y && (row[j] > row[y] || (ties == TieMode::kPessimistic && row[j] == row[y]))) ++ahead;
    }
    for (int64_t k : ks) hits[k] += ahead < k;
    per_class[y].first += ahead == 0;
    per_class[y].second += 1;
  }
  BruteForce out;
  for (int64_t k : ks) out.top_k[k] = 100.0 * hits[k] / n;
  for (auto& [label, hc] : per_class) out.mean_class += 100.0 * hc.first / hc.second / per_class.size();
  return out;
}

}  // namespace

TEST(RecognitionMetrics, MatchesBruteForceWithTies) {
  for (auto ties : {TieMode::kPessimistic, TieMode::kOptimistic}) {
    for (int64_t levels : {2, 5, 1000}) {
      torch::manual_seed(levels);
      auto scores = torch::randint(0, levels, {200, 17}, torch::kLong).to(torch::kFloat) / levels;
      auto labels = torch::randint(0, 12, {200}, torch::kLong);  // classes 12..16 never occur
      auto m = compute_recognition_metrics(scores, labels,
                                           RecognitionMetricsOptions().ties(ties).top_ks({1, 3, 5, 17}));
      auto expected = brute_force(scores, labels, {1, 3, 5, 17}, ties);
      for (auto [k, acc] : expected.top_k) EXPECT_NEAR(m.accuracy_at(k), acc, 1e-12) << "top-" << k;
      EXPECT_NEAR(m.mean_class_accuracy, expected.mean_class, 1e-9);
      EXPECT_EQ(m.num_classes, 17);
      EXPECT_EQ(m.num_classes_present, 12);
      EXPECT_EQ(m.accuracy_at(17), 100.0);
    }
  }
}

TEST(RecognitionMetrics, HandMade) {
  // Sample 0 (class 0) right; sample 1 (class 1) second; sample 2 (class 1) tied with class 2.
  auto scores = torch::tensor({0.9, 0.1, 0.0, 0.5, 0.2, 0.7, 0.1, 0.4, 0.4}).view({3, 3});
  auto labels = torch::tensor({0, 1, 1}, torch::kLong);
  auto pess = compute_recognition_metrics(scores, labels, RecognitionMetricsOptions().top_ks({1, 2}));
  EXPECT_DOUBLE_EQ(pess.accuracy_at(1), 100.0 / 3);
  EXPECT_DOUBLE_EQ(pess.accuracy_at(2), 200.0 / 3);
  EXPECT_DOUBLE_EQ(pess.mean_class_accuracy, 50.0);  // class 0: 1/1, class 1: 0/2
  auto opt = compute_recognition_metrics(scores, labels,
                                         RecognitionMetricsOptions().top_ks({1}).ties(TieMode::kOptimistic));
  EXPECT_DOUBLE_EQ(opt.accuracy_at(1), 200.0 / 3);
  EXPECT_DOUBLE_EQ(opt.mean_class_accuracy, 75.0);  // class 1: 1/2
}

TEST(RecognitionMetrics, ConstantScoresScoreZero) {
  auto m = compute_recognition_metrics(torch::zeros({4, 10}), torch::tensor({0, 1, 2, 3}, torch::kLong));
  EXPECT_EQ(m.accuracy_at(1), 0.0);
  EXPECT_EQ(m.accuracy_at(5), 0.0);
  EXPECT_EQ(m.mean_class_accuracy, 0.0);
}

TEST(RecognitionMetrics, BadLabelsAreNamed) {
  expect_error(
      [&] {
        compute_recognition_metrics(torch::zeros({2, 3}), torch::tensor({0, 3}, torch::kLong));
      },
      "expected labels in [0, 3) (class indices), got values in [0, 3]");
}
