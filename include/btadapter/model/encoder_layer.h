#pragma once
/// The CLIP transformer block (pre-LayerNorm, QuickGELU MLP) in Hugging Face naming:
/// `self_attn.{q,k,v,out}_proj`, `layer_norm1`, `mlp.{fc1,fc2}`, `layer_norm2`.
///
///   h = x + self_attn(layer_norm1(x));   y = h + mlp(layer_norm2(h));   mlp(z) = fc2(quick_gelu(fc1(z)))
///
/// The BT-Adapter spatial layer has the same parameters (it is initialised from a CLIP block), so it
/// derives from this class and only changes how tokens are grouped (see adapter_layers.h).
///
/// Thread safety: forward() does not mutate the module.

#include "btadapter/model/attention.h"

#include <torch/arg.h>
#include <torch/nn/modules/normalization.h>

namespace btadapter {

/// QuickGELU, CLIP's activation: x * sigmoid(1.702 x).
torch::Tensor quick_gelu(const torch::Tensor& x);

/// Options of ClipMlp.
struct ClipMlpOptions {
  ClipMlpOptions(int64_t width, int64_t hidden) : width_(width), hidden_(hidden) {}
  /// Model width W (input and output).
  TORCH_ARG(int64_t, width);
  /// Hidden size (4 W in CLIP).
  TORCH_ARG(int64_t, hidden);
};

/// fc2(quick_gelu(fc1(x))) on [..., W].
class ClipMlpImpl : public torch::nn::Module {
 public:
  explicit ClipMlpImpl(const ClipMlpOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ClipMlp);

/// Options of ClipEncoderLayer (and of the adapter layers, which reuse them).
struct ClipEncoderLayerOptions {
  ClipEncoderLayerOptions(int64_t width, int64_t heads, int64_t mlp_dim)
      : width_(width), heads_(heads), mlp_dim_(mlp_dim) {}
  /// Model width W.
  TORCH_ARG(int64_t, width);
  /// Attention heads.
  TORCH_ARG(int64_t, heads);
  /// MLP hidden size.
  TORCH_ARG(int64_t, mlp_dim);
  /// LayerNorm epsilon; default 1e-5 (CLIP).
  TORCH_ARG(double, layer_norm_eps) = 1e-5;
};

/// One pre-LN transformer block over [N, L, W].
class ClipEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderLayerImpl(const ClipEncoderLayerOptions& options);

  /// x: [N, L, W] -> [N, L, W]; `causal` for the text tower.
  torch::Tensor forward(const torch::Tensor& x, bool causal = false);

  const ClipEncoderLayerOptions& options() const { return options_; }

  ClipAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr};
  ClipMlp mlp{nullptr};
  torch::nn::LayerNorm layer_norm2{nullptr};

 private:
  ClipEncoderLayerOptions options_;
};
TORCH_MODULE(ClipEncoderLayer);

/// A LayerNorm over the last dimension of size `width`.
torch::nn::LayerNorm make_layer_norm(int64_t width, double eps);

}  // namespace btadapter
