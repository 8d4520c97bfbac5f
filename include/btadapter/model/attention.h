#pragma once
/// CLIP multi-head self-attention in the Hugging Face layout: separate `q_proj`, `k_proj`, `v_proj`,
/// `out_proj` linear layers with bias, queries scaled by head_dim^-0.5. Numerically the same as OpenAI's
/// `nn.MultiheadAttention` (whose stacked `in_proj_weight` is q,k,v on dim 0).
///
/// The three input projections run as one fused matmul and the attention itself as one batched call
/// (`scaled_dot_product_attention` on LibTorch >= 2, matmul-softmax-matmul before), so a layer costs two
/// GEMMs plus the attention kernel whatever the head count.
///
/// Thread safety: forward() does not mutate the module; concurrent forwards are safe.

#include <torch/nn/module.h>
#include <torch/arg.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace btadapter {

/// Options of ClipAttention.
struct ClipAttentionOptions {
  /// `embed_dim` (model width) must be divisible by `heads`.
  ClipAttentionOptions(int64_t embed_dim, int64_t heads) : embed_dim_(embed_dim), heads_(heads) {}
  /// Model width W.
  TORCH_ARG(int64_t, embed_dim);
  /// Number of attention heads.
  TORCH_ARG(int64_t, heads);
};

/// Self-attention over the second dimension of [N, L, W] inputs (no dropout: CLIP uses p = 0).
class ClipAttentionImpl : public torch::nn::Module {
 public:
  explicit ClipAttentionImpl(const ClipAttentionOptions& options);

  /// x: [N, L, W] float -> [N, L, W]. `causal` masks attention to later positions (text tower).
  torch::Tensor forward(const torch::Tensor& x, bool causal = false);

  const ClipAttentionOptions& options() const { return options_; }

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};

 private:
  ClipAttentionOptions options_;
};
TORCH_MODULE(ClipAttention);

/// softmax(q k^T * head_dim^-0.5 [+ causal mask]) v over [N, H, L, D] tensors, as one batched call.
torch::Tensor scaled_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               bool causal);

}  // namespace btadapter
