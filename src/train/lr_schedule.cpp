#include "btadapter/train/lr_schedule.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>

namespace btadapter::train {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Last integer iteration strictly below `end` (the last one a scheduler with that end is active for).
int64_t last_below(double end) { return static_cast<int64_t>(std::ceil(end)) - 1; }

}  // namespace

WarmupCosineSchedule::WarmupCosineSchedule(WarmupCosineOptions options) : options_(options) {
  const auto& o = options_;
  TORCH_CHECK(o.iters_per_epoch() >= 1, "lr schedule: iters_per_epoch must be >= 1, got ", o.iters_per_epoch());
  TORCH_CHECK(o.warmup_epochs() >= 0, "schedule.warmup_epochs: expected >= 0, got ", o.warmup_epochs());
  TORCH_CHECK(o.warmup_start_factor() >= 0 && o.warmup_start_factor() <= 1,
              "schedule.warmup_start_factor: expected a value in [0, 1], got ", o.warmup_start_factor());
  TORCH_CHECK(o.cosine_epochs() > 0, "schedule.cosine_epochs: expected > 0, got ", o.cosine_epochs());
  TORCH_CHECK(o.cosine_end_epoch() > o.warmup_epochs(), "schedule.cosine_end_epoch: expected more than ",
              "schedule.warmup_epochs (", o.warmup_epochs(), "), got ", o.cosine_end_epoch());
  TORCH_CHECK(o.cosine_end_epoch() - o.warmup_epochs() <= o.cosine_epochs() + 1e-12,
              "schedule.cosine_end_epoch: the cosine would run past its period (cosine_end_epoch - ",
              "warmup_epochs = ", o.cosine_end_epoch() - o.warmup_epochs(), " > cosine_epochs = ", o.cosine_epochs(), ")");
  TORCH_CHECK(o.min_factor() >= 0 && o.min_factor() <= 1, "schedule.min_lr_factor: expected a value in [0, 1], got ",
              o.min_factor());
  const double epoch = static_cast<double>(o.iters_per_epoch());
  warmup_end_ = o.warmup_epochs() * epoch;
  cosine_end_ = o.cosine_end_epoch() * epoch;
  cosine_first_ = static_cast<int64_t>(std::ceil(warmup_end_));
  t_max_ = o.cosine_epochs() * epoch;
  warmup_last_ = warmup_end_ > 0 ? linear(last_below(warmup_end_)) : 1.0;
}

// mmengine LinearLR closed form: start + (1 - start) * k / (end - begin - 1), k = step - begin.
double WarmupCosineSchedule::linear(int64_t step) const {
  const double start = options_.warmup_start_factor();
  const double span = warmup_end_ - 1.0;
  if (step == 0 || span <= 0) return start;
  return start + (1.0 - start) * static_cast<double>(step) / span;
}

double WarmupCosineSchedule::cosine(int64_t step) const {
  const double k = static_cast<double>(step - cosine_first_);
  const double floor = options_.min_factor();
  return floor + (warmup_last_ - floor) * (1.0 + std::cos(kPi * k / t_max_)) / 2.0;
}

double WarmupCosineSchedule::factor(int64_t step) const {
  TORCH_CHECK(step >= 0, "lr schedule: expected a step >= 0, got ", step);
  if (static_cast<double>(step) < warmup_end_) return linear(step);
  if (static_cast<double>(step) < cosine_end_) return cosine(step);
  return cosine(std::max(cosine_first_, last_below(cosine_end_)));
}

}  // namespace btadapter::train
