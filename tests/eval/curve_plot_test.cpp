#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "btadapter/eval/curve_plot.h"
#include "support/test_support.h"

namespace {

using namespace btadapter::eval;
using btadapter::testing::expect_error;

TEST(CurvePlot, ReadsSeriesKeepingTheLastRecordOfAStep) {
  btadapter::testing::TempDir dir;
  const auto log = (dir / "log.jsonl").string();
  std::ofstream(log) << R"({"step":1,"vtc":3.0,"mbta":null}
{"step":2,"vtc":2.5,"mbta":0.5}
{"event":"resume"}

{"step":2,"vtc":2.0,"t2v_r1":12.5}
{"step":3,"vtc":"n/a","t2v_r1":20}
)";
  const auto series = read_jsonl_series(log, "step", {"vtc", "mbta", "t2v_r1", "absent"});
  ASSERT_EQ(series.size(), 4u);
  EXPECT_EQ(series[0].name, "vtc");
  EXPECT_EQ(series[0].points, (std::vector<std::pair<double, double>>{{1, 3.0}, {2, 2.0}}));
  EXPECT_EQ(series[1].points, (std::vector<std::pair<double, double>>{{2, 0.5}}));
  EXPECT_EQ(series[2].points, (std::vector<std::pair<double, double>>{{2, 12.5}, {3, 20}}));
  EXPECT_TRUE(series[3].points.empty());
}

TEST(CurvePlot, BadLinesAndFilesAreNamed) {
  btadapter::testing::TempDir dir;
  const auto log = (dir / "log.jsonl").string();
  std::ofstream(log) << "{\"step\":1}\n[1,2]\n";
  expect_error([&] { read_jsonl_series(log, "step", {"x"}); }, "log '" + log + "' line 2: expected a JSON object");
  expect_error([&] { read_jsonl_series(log + ".none", "step", {"x"}); }, "cannot read the log");
  expect_error([&] { write_curve_plot((dir / "a.png").string(), {}); }, "expected at least one panel");
}

TEST(CurvePlot, DrawsEachSeriesInItsPanel) {
  btadapter::testing::TempDir dir;
  const auto png = (dir / "curves.png").string();
  CurveSeries rising{"rising", {{0, 0}, {50, 5}, {100, 10}}};
  write_curve_plot(png, {{"losses", {rising}}, {"empty", {{"none", {}}}}}, CurvePlotOptions().width(400).panel_height(200));
  const cv::Mat image = cv::imread(png);
  ASSERT_FALSE(image.empty());
  EXPECT_EQ(image.cols, 400);
  EXPECT_EQ(image.rows, 400);
  // The first palette colour (BGR 180,119,31) appears in the top panel only (line and legend).
  auto count_colour = [&](int row_begin, int row_end) {
    int n = 0;
    for (int r = row_begin; r < row_end; ++r) {
      for (int c = 0; c < image.cols; ++c) n += image.at<cv::Vec3b>(r, c) == cv::Vec3b(180, 119, 31);
    }
    return n;
  };
  EXPECT_GT(count_colour(0, 200), 100);
  EXPECT_EQ(count_colour(200, 400), 0);
  // A rising series: its start is near the bottom-left and its end near the top-right of the plot area.
  int first_col_low = -1;
  for (int c = 0; c < image.cols && first_col_low < 0; ++c) {
    for (int r = 100; r < 200; ++r) {
      if (image.at<cv::Vec3b>(r, c) == cv::Vec3b(180, 119, 31)) first_col_low = c;
    }
  }
  EXPECT_GE(first_col_low, 0);
  EXPECT_LT(first_col_low, 200);
}

}  // namespace
