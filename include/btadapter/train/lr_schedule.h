#pragma once
/// The official learning-rate schedule, iteration based, exactly as mmengine runs it
/// (reference.md 6.1):
///   LinearLR(start_factor=0.05, begin=0, end=0.5 epoch) then
///   CosineAnnealingLR(T_max=4.5 epochs, eta_min=0, begin=0.5, end=4 epochs), convert_to_iter_based.
///
/// factor(i) is the multiplier of every group's peak learning rate for 0-based iteration i (the
/// optimizer step about to be taken). mmengine's semantics, reproduced in closed form:
///   - epoch boundaries become iterations by multiplying with iters_per_epoch WITHOUT rounding, and a
///     scheduler is active for begin <= i < end;
///   - the warm-up goes linearly from start_factor at i = 0 towards 1 over end - begin - 1 iterations
///     (so with an odd epoch length the last warm-up step lands slightly above 1, as in mmengine);
///   - the cosine starts from the value the warm-up left, v0, as
///     min + (v0 - min) * (1 + cos(pi * k / T_max)) / 2, k = iterations since its first active one;
///   - outside every active range the factor holds its last value.
/// With 1 epoch of training the run stops at 0.5 * (1 + cos(pi * 0.5 / 4.5)) ~= 0.970 of the peak.
///
/// `min_factor` is relative to each group's peak (mmengine's eta_min is absolute; both are 0 in the
/// official recipe). The cosine range must not exceed T_max (no SGDR restart).
///
/// Thread safety: immutable after construction.

#include <torch/arg.h>

#include <cstdint>

namespace btadapter::train {

struct WarmupCosineOptions {
  explicit WarmupCosineOptions(int64_t iters_per_epoch) : iters_per_epoch_(iters_per_epoch) {}
  /// Optimizer steps per epoch (global batches); required, >= 1.
  TORCH_ARG(int64_t, iters_per_epoch);
  /// Length of the linear warm-up in epochs (0 disables it); default 0.5.
  TORCH_ARG(double, warmup_epochs) = 0.5;
  /// Factor at the first iteration; default 0.05.
  TORCH_ARG(double, warmup_start_factor) = 0.05;
  /// Cosine period T_max in epochs; default 4.5.
  TORCH_ARG(double, cosine_epochs) = 4.5;
  /// Epoch at which the cosine stops (it starts where the warm-up ends); default 4.0.
  TORCH_ARG(double, cosine_end_epoch) = 4.0;
  /// Floor of the cosine, relative to the peak; default 0.
  TORCH_ARG(double, min_factor) = 0.0;
};

class WarmupCosineSchedule {
 public:
  /// Validates the options (positive epoch length, 0 <= start factor <= 1, warm-up end <= cosine end,
  /// cosine range <= T_max) and throws c10::Error naming the option.
  explicit WarmupCosineSchedule(WarmupCosineOptions options);

  /// Learning-rate multiplier for 0-based iteration `step` (>= 0).
  double factor(int64_t step) const;

  const WarmupCosineOptions& options() const { return options_; }

 private:
  double linear(int64_t step) const;
  double cosine(int64_t step) const;

  WarmupCosineOptions options_;
  double warmup_end_ = 0;      // first iteration past the warm-up (may be fractional)
  double cosine_end_ = 0;      // first iteration past the cosine (may be fractional)
  int64_t cosine_first_ = 0;   // first integer iteration in the cosine range
  double t_max_ = 0;           // cosine period in iterations
  double warmup_last_ = 1.0;   // factor the warm-up leaves behind (v0)
};

}  // namespace btadapter::train
