#pragma once
/// The random-generator state of a training process, so that a resumed run draws the same masks,
/// drop-path decisions and shuffles as an uninterrupted one.
///
/// Thread safety: reading or restoring takes each generator's own lock; do it between steps, not while
/// other threads draw random numbers.

#include <torch/types.h>

#include <vector>

#include "btadapter/dist/process_group.h"

namespace btadapter::train {

/// One rank's random generators.
struct RngState {
  torch::Tensor cpu;                 ///< uint8 state of the default CPU generator
  std::vector<torch::Tensor> cuda;   ///< uint8 state of each CUDA device's default generator
};

/// Captures this process's RNG state (CPU, and every CUDA device when CUDA is available).
RngState capture_rng_state();

/// Restores a state from capture_rng_state(); throws when the CUDA device count differs.
void restore_rng_state(const RngState& state);

/// Every rank's RNG state, indexed by rank, on every rank (all ranks must call it). A world of one
/// returns {capture_rng_state()}.
std::vector<RngState> gather_rng_states(dist::ProcessGroup& group);

}  // namespace btadapter::train
