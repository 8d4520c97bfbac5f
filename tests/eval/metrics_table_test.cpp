#include <gtest/gtest.h>

#include "btadapter/eval/metrics_table.h"
#include "support/test_support.h"

using namespace btadapter::eval;

TEST(MetricsTable, RetrievalRowsAndColumns) {
  auto sim = torch::tensor({1.0, 1.0, 0.0, 0.0, 1.0, 2.0, 5.0, 5.0, 5.0}).view({3, 3});
  EXPECT_EQ(format_retrieval_table(compute_retrieval_metrics(sim), "toy"),
            "toy (t2v+v2t, ties=pessimistic, dsl=off)\n"
            "         R@1    R@5   R@10    MdR    MnR\n"
            "t2v      0.0  100.0  100.0    2.0    2.3\n"
            "v2t     33.3  100.0  100.0    2.0    2.0\n");
  auto compat = compute_retrieval_metrics(sim, RetrievalMetricsOptions().official_compat(true).recall_ks({1, 2}));
  EXPECT_EQ(format_retrieval_table(compat),
            "(official-compat t2v (ties inflate the count), dsl=off)\n"
            "         R@1    R@2    MdR    MnR\n"
            "t2v     33.3   83.3    2.0    1.8\n");
}

TEST(MetricsTable, Recognition) {
  auto scores = torch::tensor({0.9, 0.1, 0.0, 0.5, 0.2, 0.7, 0.1, 0.4, 0.4}).view({3, 3});
  auto m = compute_recognition_metrics(scores, torch::tensor({0, 1, 1}, torch::kLong));
  EXPECT_EQ(format_recognition_table(m, "ucf101"),
            "ucf101 (ties=pessimistic)\n"
            "   top1   top5  mean-class\n"
            "   33.3  100.0        50.0\n");
}
