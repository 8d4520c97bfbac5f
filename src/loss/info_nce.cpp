#include "btadapter/loss/info_nce.h"

#include <torch/torch.h>

namespace btadapter::loss {
namespace {

torch::Tensor normalize_rows(const torch::Tensor& x) {
  // Same guard as the official sim_matrix: divide by max(norm, 1e-8).
  return x / x.norm(2, -1, /*keepdim=*/true).clamp_min(1e-8);
}

torch::Tensor diagonal_nll(const torch::Tensor& logits) {
  return -torch::log_softmax(logits, 1).diagonal().mean();
}

}  // namespace

torch::Tensor cosine_logits(const torch::Tensor& a, const torch::Tensor& b, double scale) {
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1),
              "cosine_logits: expected [N, E] and [M, E], got ", a.sizes(), " and ", b.sizes());
  return torch::matmul(normalize_rows(a), normalize_rows(b).t()) * scale;
}

InfoNceTerms info_nce(const torch::Tensor& a, const torch::Tensor& b, double scale) {
  TORCH_CHECK(a.dim() == 2 && a.sizes() == b.sizes() && a.size(0) > 0,
              "info_nce: expected two [N, E] tensors of the same shape with N > 0, got ", a.sizes(), " and ",
              b.sizes());
  auto logits = cosine_logits(a, b, scale);
  InfoNceTerms out;
  out.a_to_b = diagonal_nll(logits);
  out.b_to_a = diagonal_nll(logits.t());
  out.total = out.a_to_b + out.b_to_a;
  return out;
}

}  // namespace btadapter::loss
