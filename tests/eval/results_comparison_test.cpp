#include <gtest/gtest.h>

#include <fstream>

#include "btadapter/eval/results_comparison.h"
#include "support/test_support.h"

namespace {

using btadapter::eval::format_results_comparison;
using btadapter::testing::expect_error;
using btadapter::testing::run_command;
using btadapter::testing::tool_path;

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
  expect_error(
      [&] {
        format_results_comparison({{"x", bad}});
      },
      "results file '" + bad + "': expected a JSON object with retrieval");
  expect_error(
      [&] {
        format_results_comparison({{"x", bad + ".none"}});
      },
      "cannot read the results file '" + bad + ".none'");
}

// The tool's errors: one line "bt_compare_results: <message>" and exit status 1.
TEST(BtCompareResults, ABadArgumentIsOneLineWithExitStatus1) {
  const auto result = run_command(tool_path("bt_compare_results").string() + " no-equals-sign");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(result.output, "bt_compare_results: expected NAME=FILE, got 'no-equals-sign'\n");
}

}  // namespace
