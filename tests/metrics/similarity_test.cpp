#include <gtest/gtest.h>

#include "btadapter/metrics/retrieval_metrics.h"
#include "btadapter/metrics/similarity.h"
#include "support/test_support.h"

using namespace btadapter::eval;
using btadapter::testing::expect_error;

TEST(Similarity, CosineOfEveryPairInFloat64Reference) {
  torch::manual_seed(0);
  auto text = torch::randn({5, 8}) * 3;
  auto video = torch::randn({7, 8}).to(torch::kHalf);
  auto sim = cosine_similarity_matrix(text, video);
  EXPECT_EQ(sim.scalar_type(), torch::kFloat);
  auto t = text.to(torch::kDouble), v = video.to(torch::kDouble);
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 7; ++j) {
      const double expected = (t[i] * v[j]).sum().item<double>() / (t[i].norm().item<double>() * v[j].norm().item<double>());
      EXPECT_NEAR(sim[i][j].item<double>(), expected, 1e-6);
    }
  }
  EXPECT_EQ(cosine_similarity_matrix(t, video).scalar_type(), torch::kDouble);
}

TEST(Similarity, ZeroRowIsCaughtByTheMetrics) {
  auto text = torch::eye(3);
  text[1].zero_();
  auto sim = cosine_similarity_matrix(text, torch::eye(3));
  expect_error([&] { compute_retrieval_metrics(sim); }, "expected finite similarities, got nan at row 1");
}

TEST(Similarity, BadShapesAreNamed) {
  expect_error([&] { cosine_similarity_matrix(torch::ones({2, 4}), torch::ones({2, 5})); }, "same width, got 4 and 5");
  expect_error(
      [] {
        cosine_similarity_matrix(torch::ones({2, 4}, torch::kLong), torch::ones({2, 4}));
      },
      "expected floating-point");
}
