#include <gtest/gtest.h>

#include <sstream>

#include "btadapter/train/progress.h"

using namespace btadapter::train;

TEST(Progress, FormatDuration) {
  EXPECT_EQ(format_duration(0), "0:00:00");
  EXPECT_EQ(format_duration(245), "0:04:05");
  EXPECT_EQ(format_duration(3723.4), "1:02:03");
  EXPECT_EQ(format_duration(3 * 86400 + 4 * 3600 + 5 * 60 + 6), "3d 04:05:06");
  EXPECT_EQ(format_duration(-1), "?");
  EXPECT_EQ(format_duration(std::nan("")), "?");
}

TEST(Progress, PlainLinesEveryNStepsWithRateAndEta) {
  std::ostringstream out;
  double now = 100.0;
  ProgressReporter reporter(ProgressOptions(100).bar(false).plain_every(10), out, [&] { return now; });
  for (int step = 1; step <= 20; ++step) {
    reporter.update({step, 8, {{"loss", 3.25}, {"vtc", 2.5}}});
    now += 0.5;  // each step takes half a second, 8 clips: 16 videos/s
  }
  reporter.finish();
  // Step 10 is printed 9 steps (4.5 s, shown rounded) after the first update; 90 steps left at 0.5 s = 45 s.
  EXPECT_EQ(out.str(),
            "step 10/100 (10.0%)  16.0 videos/s  elapsed 0:00:05  ETA 0:00:45  loss 3.250  vtc 2.500\n"
            "step 20/100 (20.0%)  16.0 videos/s  elapsed 0:00:10  ETA 0:00:40  loss 3.250  vtc 2.500\n");
}

TEST(Progress, BarRedrawsInPlaceAndClearsLongerText) {
  std::ostringstream out;
  double now = 0.0;
  ProgressReporter reporter(ProgressOptions(4).bar(true).bar_width(4), out, [&] { return now; });
  reporter.update({1, 2, {{"loss", 10.0}, {"extra", 12345.0}}});
  now = 1.0;
  reporter.update({2, 2, {{"loss", 1.0}}});
  reporter.finish();
  EXPECT_EQ(out.str(),
            "\r1/4 [#...] 25%  - videos/s  ETA ?  loss 10.000  extra 12345.000"
            "\r2/4 [##..] 50%  2.0 videos/s  ETA 0:00:02  loss 1.000" + std::string(10, ' ') + "\n");
}

TEST(Progress, ResumedRunMeasuresFromTheFirstUpdate) {
  std::ostringstream out;
  double now = 0.0;
  ProgressReporter reporter(ProgressOptions(1000).bar(false).plain_every(1), out, [&] { return now; });
  reporter.update({900, 4, {}});
  now = 2.0;
  reporter.update({901, 4, {}});
  EXPECT_NE(out.str().find("step 901/1000 (90.1%)  2.0 videos/s  elapsed 0:00:02  ETA 0:03:18"), std::string::npos)
      << out.str();
}
