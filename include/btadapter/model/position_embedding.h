#pragma once
/// Resizing CLIP's learned position table to another input resolution.

#include <torch/types.h>

namespace btadapter {

/// `table`: [1 + g*g, W] (class row first, then the g x g grid row-major). Returns [1 + gh*gw, W]: the
/// class row unchanged and the grid resized bicubically (align_corners = false) to gh x gw. At the
/// trained size (gh == gw == g) the table itself is returned, so trained-size inputs are bit-exact.
/// Differentiable; runs on the table's device.
torch::Tensor interpolate_position_embedding(const torch::Tensor& table, int64_t grid_h, int64_t grid_w);

}  // namespace btadapter
