#include "btadapter/model/encoder_layer.h"

#include "btadapter/model/linear.h"

#include <torch/torch.h>

namespace btadapter {

torch::Tensor quick_gelu(const torch::Tensor& x) { return x * torch::sigmoid(1.702 * x); }

ClipMlpImpl::ClipMlpImpl(const ClipMlpOptions& options) {
  fc1 = register_module("fc1", torch::nn::Linear(options.width(), options.hidden()));
  fc2 = register_module("fc2", torch::nn::Linear(options.hidden(), options.width()));
}

namespace {

constexpr double kQuickGeluSlope = 1.702;

// fc2(quick_gelu(fc1(x))) without autograd: quick_gelu(z) = silu(1.702 z) / 1.702, and both scalings ride
// on the GEMMs (linear's alpha and bias scale), so the 4x-wide hidden activation is written once and passed over
// once (in-place SiLU) instead of five times; same values up to float rounding.
torch::Tensor frozen_mlp(const ClipMlpImpl& mlp, const torch::Tensor& x) {
  auto hidden = linear(x, mlp.fc1->weight, mlp.fc1->bias, kQuickGeluSlope, kQuickGeluSlope);
  torch::silu_(hidden);
  return linear(hidden, mlp.fc2->weight, mlp.fc2->bias, 1.0 / kQuickGeluSlope, 1.0);
}

}  // namespace

torch::Tensor ClipMlpImpl::forward(const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled() && fc1->bias.defined() && fc2->bias.defined()) return frozen_mlp(*this, x);
  return linear(quick_gelu(linear(x, fc1->weight, fc1->bias)), fc2->weight, fc2->bias);
}

torch::nn::LayerNorm make_layer_norm(int64_t width, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(eps));
}

ClipEncoderLayerImpl::ClipEncoderLayerImpl(const ClipEncoderLayerOptions& options) : options_(options) {
  self_attn = register_module("self_attn", ClipAttention(ClipAttentionOptions(options.width(), options.heads())));
  layer_norm1 = register_module("layer_norm1", make_layer_norm(options.width(), options.layer_norm_eps()));
  mlp = register_module("mlp", ClipMlp(ClipMlpOptions(options.width(), options.mlp_dim())));
  layer_norm2 = register_module("layer_norm2", make_layer_norm(options.width(), options.layer_norm_eps()));
}

torch::Tensor ClipEncoderLayerImpl::forward(const torch::Tensor& x, bool causal) {
  auto h = x + self_attn->forward(layer_norm1->forward(x), causal);
  return h + mlp->forward(layer_norm2->forward(h));
}

}  // namespace btadapter
