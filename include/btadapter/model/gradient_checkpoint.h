#pragma once
/// Gradient checkpointing (activation recomputation) for one differentiable block.

#include <torch/types.h>

#include <functional>

namespace btadapter {

/// A block to checkpoint: one tensor in, one tensor out. It must be deterministic (draw any randomness,
/// e.g. drop-path scales, beforehand and capture it) and must capture everything it uses by value,
/// because it is called again during backward.
using CheckpointedBlock = std::function<torch::Tensor(const torch::Tensor&)>;

/// Runs `block(input)` without recording its graph. In backward the block is recomputed with autograd
/// and back-propagated: the gradient of `input` is returned to the outer graph and the gradients of the
/// parameters the block uses are accumulated into their `.grad` (like PyTorch's reentrant
/// `torch.utils.checkpoint`). Consequently the outer backward must be `backward()` (accumulating into
/// `.grad`), not `torch::autograd::grad` restricted to chosen inputs. `input` must require grad.
torch::Tensor gradient_checkpoint(const CheckpointedBlock& block, const torch::Tensor& input);

}  // namespace btadapter
