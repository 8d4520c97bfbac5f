#include "btadapter/model/adapter_layers.h"

#include "btadapter/model/linear.h"

#include <torch/torch.h>

namespace btadapter {
namespace {

// Splits branch tokens into the class token [B,1,W] and patch tokens [B,n,W], checking n % T == 0.
std::pair<torch::Tensor, torch::Tensor> split_branch(const torch::Tensor& x, int64_t frames, const char* who) {
  TORCH_CHECK(x.dim() == 3 && x.size(1) >= 1, who, ": expected branch tokens [B, 1+n, W], got ", x.sizes());
  TORCH_CHECK(frames > 0 && (x.size(1) - 1) % frames == 0, who, ": expected the ", x.size(1) - 1,
              " patch tokens to be a multiple of frames (", frames, ")");
  return {x.narrow(1, 0, 1), x.narrow(1, 1, x.size(1) - 1)};
}

torch::Tensor apply_drop(const torch::Tensor& h, const torch::Tensor& scale) {
  return scale.defined() ? h * scale : h;
}

}  // namespace

torch::Tensor sample_drop_path(int64_t rows, double rate, const torch::TensorOptions& options) {
  if (rate <= 0.0) return {};
  const double keep = 1.0 - rate;
  return torch::floor(keep + torch::rand({rows, 1, 1}, options)) / keep;
}

TemporalLayerImpl::TemporalLayerImpl(const AdapterLayerOptions& options) : options_(options) {
  self_attn = register_module("self_attn", ClipAttention(ClipAttentionOptions(options.width(), options.heads())));
  layer_norm1 = register_module("layer_norm1", make_layer_norm(options.width(), options.layer_norm_eps()));
  temporal_fc = register_module("temporal_fc", torch::nn::Linear(options.width(), options.width()));
  // Zero init makes a fresh branch level the identity on the patch tokens (paper eq. 2).
  torch::NoGradGuard no_grad;
  temporal_fc->weight.zero_();
  temporal_fc->bias.zero_();
}

torch::Tensor TemporalLayerImpl::drop_path_scale(const torch::Tensor& x, int64_t frames) const {
  if (!is_training()) return {};
  auto [cls, patches] = split_branch(x, frames, "TemporalLayer");
  return sample_drop_path(x.size(0) * patches.size(1) / frames, options_.drop_path(), x.options());
}

torch::Tensor TemporalLayerImpl::forward(const torch::Tensor& x, int64_t frames, const torch::Tensor& drop_scale) {
  auto [cls, patches] = split_branch(x, frames, "TemporalLayer");
  const int64_t b = x.size(0), n = patches.size(1), w = x.size(2);
  // Each run of T consecutive tokens is one patch position over time (exactly so for the tube layout).
  auto h = self_attn->forward(layer_norm1->forward(patches.reshape({b * n / frames, frames, w})));
  h = linear(apply_drop(h, drop_scale), temporal_fc->weight, temporal_fc->bias).reshape({b, n, w});
  return torch::cat({cls, patches + h}, 1);
}

SpatialLayerImpl::SpatialLayerImpl(const AdapterLayerOptions& options)
    : ClipEncoderLayerImpl(ClipEncoderLayerOptions(options.width(), options.heads(), options.mlp_dim())
                               .layer_norm_eps(options.layer_norm_eps())),
      drop_path_(options.drop_path()) {}

torch::Tensor SpatialLayerImpl::drop_path_scale(const torch::Tensor& x, int64_t frames) const {
  if (!is_training()) return {};
  split_branch(x, frames, "SpatialLayer");
  return sample_drop_path(x.size(0) * frames, drop_path_, x.options());
}

torch::Tensor SpatialLayerImpl::forward(const torch::Tensor& x, int64_t frames, const torch::Tensor& drop_scale) {
  auto [cls, patches] = split_branch(x, frames, "SpatialLayer");
  const int64_t b = x.size(0), t = frames, p = patches.size(1) / frames, w = x.size(2);
  // 'b (p t) w -> (b t) p w' with the class token repeated to every frame.
  auto per_frame = patches.view({b, p, t, w}).transpose(1, 2).reshape({b * t, p, w});
  auto cls_frames = cls.expand({b, t, w}).reshape({b * t, 1, w});
  auto h = self_attn->forward(layer_norm1->forward(torch::cat({cls_frames, per_frame}, 1)));
  h = apply_drop(h, drop_scale);
  auto cls_out = h.narrow(1, 0, 1).reshape({b, t, w}).mean(1, /*keepdim=*/true);
  auto patch_out = h.narrow(1, 1, p).reshape({b, t, p, w}).transpose(1, 2).reshape({b, p * t, w});
  auto y = x + torch::cat({cls_out, patch_out}, 1);
  return y + mlp->forward(layer_norm2->forward(y));
}

}  // namespace btadapter
