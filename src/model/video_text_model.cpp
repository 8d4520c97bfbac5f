#include "btadapter/model/video_text_model.h"

#include <torch/torch.h>

namespace btadapter {

VideoTextModelImpl::VideoTextModelImpl(const ModelConfig& config) : config_(config) {
  validate(config);
  backbone = register_module("backbone",
                             VisionBackbone(VisionBackboneOptions(config.vision, config.adapter, config.embed_dim)));
  text_backbone = register_module("text_backbone", TextBackbone(config.text, config.embed_dim));
  if (config.adapter.depth > 0) {
    extra_proj = register_module(
        "extra_proj", torch::nn::Sequential(torch::nn::Linear(config.vision.width, config.embed_dim),
                                            make_layer_norm(config.embed_dim, config.vision.layer_norm_eps)));
  }
}

VideoFeatures VideoTextModelImpl::encode_video(const torch::Tensor& video, const TubeMask* mask, VisionTrace* trace) {
  return backbone->forward(video, mask, trace);
}

torch::Tensor VideoTextModelImpl::encode_text(const torch::Tensor& ids, TextTrace* trace) {
  return text_backbone->forward(ids, trace);
}

torch::Tensor VideoTextModelImpl::mbca_features(const torch::Tensor& branch_tokens) {
  TORCH_CHECK(branch_tokens.dim() == 3 && branch_tokens.size(1) > 1,
              "mbca_features: expected branch tokens [B, 1+n, W] with n > 0, got ", branch_tokens.sizes());
  auto patches = branch_tokens.narrow(1, 1, branch_tokens.size(1) - 1);
  return backbone->visual_projection->forward(patches).mean(1);
}

MbtaFeatures VideoTextModelImpl::mbta_features(const torch::Tensor& branch_tokens, const torch::Tensor& clip_tokens,
                                               const torch::Tensor& target_index) {
  TORCH_CHECK(extra_proj, "mbta_features: the model has no branch (adapter depth 0)");
  TORCH_CHECK(branch_tokens.dim() == 3 && clip_tokens.dim() == 3 && target_index.dim() == 2,
              "mbta_features: expected branch [B, 1+n, W], clip [B*T, 1+P, W], index [B, n], got ",
              branch_tokens.sizes(), ", ", clip_tokens.sizes(), ", ", target_index.sizes());
  const int64_t b = branch_tokens.size(0), n = branch_tokens.size(1) - 1, w = branch_tokens.size(2);
  TORCH_CHECK(target_index.size(0) == b && target_index.size(1) == n && clip_tokens.size(0) % b == 0,
              "mbta_features: expected ", n, " targets for each of ", b, " videos, got index ", target_index.sizes(),
              " and clip tokens ", clip_tokens.sizes());
  const int64_t frames = clip_tokens.size(0) / b, patches = clip_tokens.size(1) - 1;
  // The video's CLIP patch tokens in (t l) order, [B, T*P, W].
  auto clip_tl = clip_tokens.narrow(1, 1, patches).reshape({b, frames * patches, w});
  auto index = target_index.to(clip_tl.device()).unsqueeze(-1).expand({b, n, w});
  MbtaFeatures out;
  {
    torch::NoGradGuard no_grad;  // the target is a frozen teacher
    out.target = backbone->visual_projection->forward(backbone->post_layernorm->forward(clip_tl.gather(1, index)));
  }
  // The norm runs in its parameters' dtype: CPU autocast (unlike CUDA's) passes layer_norm's input as it
  // comes, and the bf16 projection would not match the fp32 norm weights.
  auto projected = extra_proj[0]->as<torch::nn::LinearImpl>()->forward(branch_tokens.narrow(1, 1, n));
  auto& norm = *extra_proj[1]->as<torch::nn::LayerNormImpl>();
  out.branch = norm.forward(projected.to(norm.weight.scalar_type()));
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> VideoTextModelImpl::named_trainable_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters()) {
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value());
  }
  return out;
}

std::vector<torch::Tensor> VideoTextModelImpl::trainable_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& item : named_trainable_parameters()) out.push_back(item.second);
  return out;
}

void VideoTextModelImpl::set_clip_trainable(bool trainable) {
  backbone->set_clip_trainable(trainable);
  text_backbone->set_trainable(trainable);
}

void VideoTextModelImpl::init_branch_from_clip() {
  if (config_.adapter.depth == 0) return;
  torch::NoGradGuard no_grad;
  backbone->init_spatial_from_clip();
  for (const auto& module : *backbone->btadapter_T_layers) {
    auto& layer = *module->as<TemporalLayerImpl>();
    for (auto* proj : {&layer.self_attn->q_proj, &layer.self_attn->k_proj, &layer.self_attn->v_proj,
                       &layer.self_attn->out_proj}) {
      (*proj)->reset_parameters();
    }
    layer.layer_norm1->reset_parameters();
    layer.temporal_fc->weight.zero_();
    layer.temporal_fc->bias.zero_();
  }
  backbone->btadapter_time_embed->weight.normal_(0.0, 1.0);
  backbone->btadapter_cls_token.zero_();
  if (backbone->balance1.defined()) {
    backbone->balance1.zero_();
    backbone->balance2.zero_();
  }
  extra_proj[0]->as<torch::nn::LinearImpl>()->reset_parameters();
  extra_proj[1]->as<torch::nn::LayerNormImpl>()->reset_parameters();
}

}  // namespace btadapter
