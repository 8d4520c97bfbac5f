#include "btadapter/model/attention.h"

#include "btadapter/model/batched_matmul.h"
#include "btadapter/model/linear.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <limits>

namespace btadapter {

ClipAttentionImpl::ClipAttentionImpl(const ClipAttentionOptions& options) : options_(options) {
  TORCH_CHECK(options.embed_dim() > 0 && options.heads() > 0 && options.embed_dim() % options.heads() == 0,
              "ClipAttention: expected embed_dim divisible by heads, got embed_dim ", options.embed_dim(),
              " and heads ", options.heads());
  const int64_t w = options.embed_dim();
  q_proj = register_module("q_proj", torch::nn::Linear(w, w));
  k_proj = register_module("k_proj", torch::nn::Linear(w, w));
  v_proj = register_module("v_proj", torch::nn::Linear(w, w));
  out_proj = register_module("out_proj", torch::nn::Linear(w, w));
}

torch::Tensor ClipAttentionImpl::forward(const torch::Tensor& x, bool causal) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == options_.embed_dim(), "ClipAttention: expected input [N, L, ",
              options_.embed_dim(), "], got ", x.sizes());
  const int64_t n = x.size(0), len = x.size(1), heads = options_.heads();
  const int64_t head_dim = options_.embed_dim() / heads;
  // One GEMM for q, k and v: concatenating the (small) weights is cheaper than three passes over x.
  auto weight = torch::cat({q_proj->weight, k_proj->weight, v_proj->weight}, 0);
  auto bias = torch::cat({q_proj->bias, k_proj->bias, v_proj->bias}, 0);
  auto qkv = linear(x, weight, bias).view({n, len, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
  auto out = scaled_attention(qkv[0], qkv[1], qkv[2], causal);  // [N, H, L, D]
  return linear(out.transpose(1, 2).reshape({n, len, options_.embed_dim()}), out_proj->weight, out_proj->bias);
}

torch::Tensor scaled_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               bool causal) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, causal);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = batched_matmul(q, k.transpose(-2, -1), scale);
  if (causal) {
    const int64_t len = q.size(-2);
    auto upper = torch::ones({len, len}, q.options().dtype(torch::kBool)).triu(1);
    scores = scores.masked_fill(upper, -std::numeric_limits<float>::infinity());
  }
  return batched_matmul(torch::softmax(scores, -1), v);
#endif
}

}  // namespace btadapter
