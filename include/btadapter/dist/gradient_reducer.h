#pragma once
/// Data-parallel gradient averaging for the trainable parameters: LibTorch's C++ frontend has no
/// DistributedDataParallel, so this is ours.
///
/// Gradients are packed into flat buckets (up to `bucket_bytes`, in reverse parameter order, the order
/// in which backward produces them) and summed across ranks with one all-reduce per bucket. With
/// `overlap_with_backward`, autograd hooks copy each gradient into its bucket as soon as it exists and a
/// bucket's all-reduce starts once it is full, while backward goes on. Buckets always start in index
/// order, on every rank, so the collectives match even when hooks fire in another order.
/// synchronize() starts what is left (parameters without a gradient this step contribute zeros), waits
/// for every reduction to finish, and only then divides by world_size and writes the averages into
/// `.grad` (dividing before the wait would race with the reduction).
///
/// Usage, once per optimizer step:
///   GradientReducer reducer(trainable, group);
///   optimizer.zero_grad(); loss.backward(); reducer.synchronize(); clip; optimizer.step();
/// One backward per synchronize(): gradient accumulation over several backward passes is rejected.
/// With world_size 1 it does nothing (no hooks, no copies).
///
/// Thread safety: hooks may run on autograd threads (guarded internally); call synchronize() from the
/// thread that ran backward, after it returned. The reducer must outlive the backward passes it hooks.

#include <torch/arg.h>
#include <torch/types.h>

#include <memory>
#include <vector>

#include "btadapter/dist/process_group.h"

namespace btadapter::dist {

struct GradientReducerOptions {
  /// Largest bucket in bytes (a bigger tensor gets a bucket of its own); default 25 MiB.
  TORCH_ARG(int64_t, bucket_bytes) = 25 * 1024 * 1024;
  /// Start bucket reductions from autograd hooks during backward; default true.
  TORCH_ARG(bool, overlap_with_backward) = true;
};

class GradientReducer {
 public:
  /// `params`: the trainable parameters (requires_grad, dense), identical in order and shape on every
  /// rank.
  GradientReducer(std::vector<torch::Tensor> params, std::shared_ptr<ProcessGroup> group,
                  GradientReducerOptions options = {});
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// Finishes the all-reduce of this step's gradients and leaves their rank average in `.grad`.
  void synchronize();

  /// Number of buckets (0 in a world of one).
  int64_t num_buckets() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace btadapter::dist
