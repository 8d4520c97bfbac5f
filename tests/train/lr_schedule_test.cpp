#include <gtest/gtest.h>

#include <cmath>

#include "btadapter/train/lr_schedule.h"
#include "support/test_support.h"

using namespace btadapter::train;
using btadapter::testing::expect_error;

namespace {

const double kPi = std::acos(-1.0);

// mmengine's recursive (chainable) LinearLR + CosineAnnealingLR, stepped one iteration at a time,
// transcribed from its documented update rules: the brute-force reference for the closed form.
std::vector<double> mmengine_factors(int64_t epoch_length, int64_t iterations) {
  const double start = 0.05;
  const double lin_begin = 0, lin_end = 0.5 * epoch_length, lin_total = lin_end - lin_begin - 1;
  const double cos_begin = 0.5 * epoch_length, cos_end = 4.0 * epoch_length, t_max = 4.5 * epoch_length;
  int64_t lin_last = -1, cos_last = -1;
  double lr = 1.0;
  std::vector<double> out;
  for (int64_t global = 0; global < iterations; ++global) {
    if (lin_begin <= global && global < lin_end) {
      ++lin_last;
      lr = lin_last == 0 ? lr * start
                         : lr * (1.0 + (1.0 - start) / (lin_total * start + (lin_last - 1) * (1.0 - start)));
    }
    if (cos_begin <= global && global < cos_end) {
      ++cos_last;
      if (cos_last > 0) {
        lr = (1 + std::cos(kPi * cos_last / t_max)) / (1 + std::cos(kPi * (cos_last - 1) / t_max)) * lr;
      }
    }
    out.push_back(lr);
  }
  return out;
}

}  // namespace

TEST(WarmupCosineSchedule, OfficialRecipeEndsEpochOneAtAbout097) {
  WarmupCosineSchedule schedule(WarmupCosineOptions(1000));
  EXPECT_DOUBLE_EQ(schedule.factor(0), 0.05);
  EXPECT_DOUBLE_EQ(schedule.factor(499), 1.0);  // the warm-up reaches the peak on its last step
  EXPECT_DOUBLE_EQ(schedule.factor(500), 1.0);  // the cosine starts from it
  EXPECT_NEAR(schedule.factor(250), 0.05 + 0.95 * 250 / 499.0, 1e-15);
  // End of epoch one, 0.5 epochs into the 4.5-epoch cosine: 0.5 * (1 + cos(pi / 9)), written out.
  EXPECT_NEAR(schedule.factor(1000), 0.96984631039295, 1e-12);
  EXPECT_NEAR(schedule.factor(999), 0.5 * (1 + std::cos(kPi * 499 / 4500.0)), 1e-12);
}

TEST(WarmupCosineSchedule, MatchesMmengineStepByStepWithAnOddEpochLength) {
  // 2.49M clips / 416 = 5986 iterations; use an odd length so that the half-epoch is fractional.
  const int64_t epoch = 5987;
  WarmupCosineSchedule schedule{WarmupCosineOptions(epoch)};
  auto reference = mmengine_factors(epoch, 4 * epoch + 50);
  double worst = 0;
  for (int64_t i = 0; i < static_cast<int64_t>(reference.size()); ++i) {
    worst = std::max(worst, std::abs(schedule.factor(i) - reference[i]));
  }
  EXPECT_LT(worst, 1e-12);
  // The fractional end of the warm-up overshoots 1 by a hair on its last step, exactly like mmengine.
  EXPECT_GT(schedule.factor(2993), 1.0);
  EXPECT_LT(schedule.factor(2993), 1.001);
}

TEST(WarmupCosineSchedule, HoldsTheLastValueAfterTheCosine) {
  WarmupCosineSchedule schedule(WarmupCosineOptions(10));
  EXPECT_DOUBLE_EQ(schedule.factor(39), schedule.factor(40));
  EXPECT_DOUBLE_EQ(schedule.factor(39), schedule.factor(1000));
  EXPECT_NEAR(schedule.factor(39), 0.5 * (1 + std::cos(kPi * 34 / 45.0)), 1e-12);
}

TEST(WarmupCosineSchedule, NoWarmupAndAFloor) {
  WarmupCosineSchedule schedule(
      WarmupCosineOptions(4).warmup_epochs(0).cosine_epochs(2).cosine_end_epoch(2).min_factor(0.1));
  EXPECT_DOUBLE_EQ(schedule.factor(0), 1.0);
  EXPECT_NEAR(schedule.factor(4), 0.1 + 0.9 * 0.5, 1e-12);
  EXPECT_NEAR(schedule.factor(7), 0.1 + 0.9 * 0.5 * (1 + std::cos(kPi * 7 / 8.0)), 1e-12);
}

TEST(WarmupCosineSchedule, BadOptionsNameTheKey) {
  expect_error([&] { WarmupCosineSchedule s(WarmupCosineOptions(0)); }, "iters_per_epoch must be >= 1");
  expect_error([&] { WarmupCosineSchedule s(WarmupCosineOptions(10).warmup_start_factor(1.5)); },
               "schedule.warmup_start_factor");
  expect_error([&] { WarmupCosineSchedule s(WarmupCosineOptions(10).cosine_end_epoch(6)); }, "run past its period");
  expect_error([&] { WarmupCosineSchedule s(WarmupCosineOptions(10).cosine_end_epoch(0.25)); },
               "schedule.cosine_end_epoch");
}
