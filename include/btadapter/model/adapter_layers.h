#pragma once
/// The two layers of one BT-Adapter branch level (divided space-time attention), exactly as the official
/// `BTAdapterLayer_Time` / `BTAdapterLayer_Spatial` compute them.
///
/// Both take branch tokens x [B, 1+n, W]: token 0 is the video class token, then n = p*T patch tokens in
/// patch-major (l t) order (index 1 + j*T + t for the j-th kept patch of frame t); `frames` is T.
///
/// TemporalLayer (`self_attn`, `layer_norm1`, `temporal_fc`): each run of T consecutive patch tokens
/// attends over time; the zero-initialised `temporal_fc` projects the result, which is added back:
///   y[:,1:] = x[:,1:] + temporal_fc(drop_path(self_attn(layer_norm1(x[:,1:] as [B*p, T, W]))))
///   y[:,0]  = x[:,0]                                 (class token passed through)
///
/// SpatialLayer (CLIP block parameters): the class token is repeated to every frame, each frame's
/// [cls; p patches] attends spatially, the per-frame class outputs are averaged, then the MLP:
///   h = x + regroup(drop_path(self_attn(layer_norm1(per_frame(x)))));  y = h + mlp(layer_norm2(h))
///
/// Drop path (stochastic depth, mmcv semantics) scales whole attention outputs per attention sequence
/// (rows of [B*p, T, W] resp. [B*T, 1+p, W]) by floor(keep + U)/keep, keep = 1 - rate, in training only.
/// The random scale can be drawn beforehand with `drop_path_scale()` and passed to forward(), so that a
/// recomputation (gradient checkpointing) sees the same draw.
///
/// Thread safety: forward() does not mutate the module.

#include "btadapter/model/encoder_layer.h"

namespace btadapter {

/// Options of the adapter layers.
struct AdapterLayerOptions {
  AdapterLayerOptions(int64_t width, int64_t heads, int64_t mlp_dim)
      : width_(width), heads_(heads), mlp_dim_(mlp_dim) {}
  /// Model width W.
  TORCH_ARG(int64_t, width);
  /// Attention heads.
  TORCH_ARG(int64_t, heads);
  /// MLP hidden size (spatial layer only).
  TORCH_ARG(int64_t, mlp_dim);
  /// LayerNorm epsilon; default 1e-5.
  TORCH_ARG(double, layer_norm_eps) = 1e-5;
  /// Drop-path rate of the attention residual; default 0 (the official rates are linspace(0, 0.1, K)).
  TORCH_ARG(double, drop_path) = 0.0;
};

/// Draws the per-sequence drop-path scale [rows, 1, 1] (values 0 or 1/keep) in `options`' dtype and
/// device; returns an undefined tensor when `rate` is 0.
torch::Tensor sample_drop_path(int64_t rows, double rate, const torch::TensorOptions& options);

/// Attention over time for each patch position, plus the zero-initialised projection `temporal_fc`.
class TemporalLayerImpl : public torch::nn::Module {
 public:
  explicit TemporalLayerImpl(const AdapterLayerOptions& options);

  /// x: [B, 1+n, W] with n divisible by `frames` -> [B, 1+n, W]. `drop_scale`: [B*n/T, 1, 1] or
  /// undefined (no drop path).
  torch::Tensor forward(const torch::Tensor& x, int64_t frames, const torch::Tensor& drop_scale = {});

  /// The drop-path draw for input `x` when training with a positive rate, otherwise undefined.
  torch::Tensor drop_path_scale(const torch::Tensor& x, int64_t frames) const;

  const AdapterLayerOptions& options() const { return options_; }

  ClipAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr};
  torch::nn::Linear temporal_fc{nullptr};

 private:
  AdapterLayerOptions options_;
};
TORCH_MODULE(TemporalLayer);

/// A CLIP block applied per frame to the (possibly masked) branch tokens, with a shared class token.
class SpatialLayerImpl : public ClipEncoderLayerImpl {
 public:
  explicit SpatialLayerImpl(const AdapterLayerOptions& options);

  /// x: [B, 1+n, W] with n divisible by `frames` -> [B, 1+n, W]. `drop_scale`: [B*T, 1, 1] or undefined.
  torch::Tensor forward(const torch::Tensor& x, int64_t frames, const torch::Tensor& drop_scale = {});

  /// The drop-path draw for input `x` when training with a positive rate, otherwise undefined.
  torch::Tensor drop_path_scale(const torch::Tensor& x, int64_t frames) const;

 private:
  double drop_path_;
};
TORCH_MODULE(SpatialLayer);

}  // namespace btadapter
