#include <gtest/gtest.h>

#include "btadapter/metrics/retrieval_metrics.h"
#include "btadapter/metrics/similarity.h"
#include "support/test_support.h"

using namespace btadapter::eval;

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
  try {
    compute_retrieval_metrics(sim);
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("expected finite similarities, got nan at row 1"),
              std::string::npos)
        << e.what_without_backtrace();
  }
}

TEST(Similarity, BadShapesAreNamed) {
  try {
    cosine_similarity_matrix(torch::ones({2, 4}), torch::ones({2, 5}));
    FAIL();
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("same width, got 4 and 5"), std::string::npos);
  }
  EXPECT_THROW(cosine_similarity_matrix(torch::ones({2, 4}, torch::kLong), torch::ones({2, 4})), c10::Error);
}
