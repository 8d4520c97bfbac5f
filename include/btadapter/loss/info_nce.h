#pragma once
/// The symmetric InfoNCE of BT-Adapter's official `NormSoftmaxLoss` (paper eq. 6).
///
/// With S = scale * cos(a_i, b_j) ([N, N]; the official scale is 1/tau = 100):
///   a_to_b = -mean_i log_softmax(S, dim 1)[i, i]
///   b_to_a = -mean_i log_softmax(S^T, dim 1)[i, i]
///   total  = a_to_b + b_to_a            (the sum of both directions, not their average)
/// Row i of `a` and of `b` are the positive pair. Inputs are the already-gathered global batch: gathering
/// across ranks (with the local-slice gradient) is the caller's job. Differentiable in a and b; any
/// floating dtype, any device.

#include <torch/types.h>

namespace btadapter::loss {

/// The two directions and their sum, each a scalar tensor.
struct InfoNceTerms {
  torch::Tensor a_to_b;
  torch::Tensor b_to_a;
  torch::Tensor total;
};

/// a, b: [N, E] with N >= 1 (rows need not be normalised; a zero row is treated as norm 1e-8).
InfoNceTerms info_nce(const torch::Tensor& a, const torch::Tensor& b, double scale);

/// The scaled cosine-similarity matrix scale * cos(a_i, b_j), [N, M].
torch::Tensor cosine_logits(const torch::Tensor& a, const torch::Tensor& b, double scale);

}  // namespace btadapter::loss
