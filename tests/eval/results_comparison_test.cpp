#include <gtest/gtest.h>

#include <fstream>

#include "btadapter/eval/results_comparison.h"
#include "support/test_support.h"

namespace {

using btadapter::eval::format_results_comparison;

TEST(ResultsComparison, OneRowPerFileWithMissingValuesAsDashes) {
  btadapter::testing::TempDir dir;
  const auto a = (dir / "a.json").string(), b = (dir / "b.json").string();
  std::ofstream(a) << R"({"retrieval": {"t2v": {"R@1": 35.94, "R@5": 75, "R@10": 89.06}}, "direction": {"accuracy": 50}})";
  std::ofstream(b) << R"({"retrieval": {"t2v": {"R@1": 46.875, "R@5": 96.9, "R@10": 100},
                                         "v2t": {"R@1": 35.9, "R@5": 95.3, "R@10": 100}}})";
  const std::string table = format_results_comparison({{"frozen CLIP", a}, {"BT-Adapter", b}});
  EXPECT_EQ(table,
            "model         t2v R@1   R@5  R@10   v2t R@1   R@5  R@10   direction\n"
            "frozen CLIP      35.9  75.0  89.1         -     -     -        50.0\n"
            "BT-Adapter       46.9  96.9 100.0      35.9  95.3 100.0           -\n");
}

TEST(ResultsComparison, FilesWithoutRetrievalMetricsAreNamed) {
  btadapter::testing::TempDir dir;
  const auto bad = (dir / "bad.json").string();
  std::ofstream(bad) << R"({"recognition": {}})";
  try {
    format_results_comparison({{"x", bad}});
    FAIL();
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("results file '" + bad + "': expected a JSON object with retrieval"),
              std::string::npos);
  }
  EXPECT_THROW(format_results_comparison({{"x", bad + ".none"}}), c10::Error);
}

}  // namespace
