#include "btadapter/model/vision_backbone.h"

#include "btadapter/model/gradient_checkpoint.h"
#include "btadapter/model/position_embedding.h"

#include <torch/torch.h>

#include <optional>

namespace btadapter {

// Sizes of one forward pass plus the (possibly resized) position table and the kept-token index.
struct VisionBackboneImpl::Batch {
  int64_t videos = 0, frames = 0, patches = 0, width = 0;
  torch::Tensor pos;         // [1+P, W]
  torch::Tensor keep_index;  // [B, n] kept (l t) branch tokens, or undefined (no mask)
};

namespace {

// Gathers rows `index` [B, n] of tokens [B, N, W] -> [B, n, W] (differentiable).
torch::Tensor gather_tokens(const torch::Tensor& tokens, const torch::Tensor& index) {
  return tokens.gather(1, index.unsqueeze(-1).expand({index.size(0), index.size(1), tokens.size(2)}));
}

// CLIP patch tokens [B, T, P, W] -> patch-major (l t) sequence [B, P*T, W].
torch::Tensor to_patch_major(const torch::Tensor& patches) {
  return patches.transpose(1, 2).reshape({patches.size(0), patches.size(1) * patches.size(2), patches.size(3)});
}

}  // namespace

bool VisionBackboneImpl::is_branch_parameter(const std::string& name) {
  return name.rfind("btadapter", 0) == 0 || name.rfind("balance", 0) == 0;
}

VisionBackboneImpl::VisionBackboneImpl(const VisionBackboneOptions& options) : options_(options) {
  const VisionConfig& v = options.vision();
  const AdapterConfig& a = options.adapter();
  TORCH_CHECK(a.depth >= 0 && a.depth <= v.layers, "VisionBackbone: expected 0 <= adapter depth <= ", v.layers,
              ", got ", a.depth);
  const int64_t w = v.width;
  class_embedding = register_parameter("class_embedding", torch::randn({w}));
  patch_embedding = register_module(
      "patch_embedding", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, w, v.patch_size).stride(v.patch_size).bias(false)));
  position_embedding = register_module("position_embedding", torch::nn::Embedding(v.num_patches() + 1, w));
  pre_layrnorm = register_module("pre_layrnorm", make_layer_norm(w, v.layer_norm_eps));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < v.layers; ++i) {
    clip_layers_.push_back(
        ClipEncoderLayer(ClipEncoderLayerOptions(w, v.heads, v.mlp_dim).layer_norm_eps(v.layer_norm_eps)));
    layers->push_back(clip_layers_.back());
  }
  post_layernorm = register_module("post_layernorm", make_layer_norm(w, v.layer_norm_eps));
  visual_projection =
      register_module("visual_projection", torch::nn::Linear(torch::nn::LinearOptions(w, options.embed_dim()).bias(false)));
  if (a.depth > 0) {
    if (a.fusion == FusionMode::kLearned) {
      balance1 = register_parameter("balance1", torch::zeros({w}));
      balance2 = register_parameter("balance2", torch::zeros({w}));
    }
    btadapter_S_layers = register_module("btadapter_S_layers", torch::nn::ModuleList());
    btadapter_T_layers = register_module("btadapter_T_layers", torch::nn::ModuleList());
    for (int64_t k = 0; k < a.depth; ++k) {
      // Official drop-path rates: linspace(0, drop_path, depth).
      const double rate = a.depth > 1 ? a.drop_path * static_cast<double>(k) / static_cast<double>(a.depth - 1) : 0.0;
      auto layer_options =
          AdapterLayerOptions(w, v.heads, v.mlp_dim).layer_norm_eps(v.layer_norm_eps).drop_path(rate);
      spatial_layers_.push_back(SpatialLayer(layer_options));
      temporal_layers_.push_back(TemporalLayer(layer_options));
      btadapter_S_layers->push_back(spatial_layers_.back());
      btadapter_T_layers->push_back(temporal_layers_.back());
    }
    btadapter_time_embed = register_module("btadapter_time_embed", torch::nn::Embedding(a.max_frames, w));
    btadapter_cls_token = register_parameter("btadapter_cls_token", torch::zeros({1, 1, w}));
  }
  set_clip_trainable(false);
}

void VisionBackboneImpl::set_clip_trainable(bool trainable) {
  for (auto& item : named_parameters()) {
    if (!is_branch_parameter(item.key())) item.value().set_requires_grad(trainable);
  }
  clip_trainable_ = trainable;
}

void VisionBackboneImpl::init_spatial_from_clip() {
  torch::NoGradGuard no_grad;
  const int64_t first = static_cast<int64_t>(clip_layers_.size()) - depth();
  for (int64_t k = 0; k < depth(); ++k) {
    auto source = clip_layers_[first + k]->named_parameters();
    for (auto& item : spatial_layers_[k]->named_parameters()) item.value().copy_(source[item.key()]);
  }
}

torch::Tensor VisionBackboneImpl::position_table(int64_t grid_h, int64_t grid_w) const {
  return interpolate_position_embedding(position_embedding->weight, grid_h, grid_w);
}

torch::Tensor VisionBackboneImpl::embed(const torch::Tensor& frames, const torch::Tensor& pos) {
  auto patches = patch_embedding->forward(frames).flatten(2).transpose(1, 2);  // [N, P, W]
  auto cls = class_embedding.to(patches.dtype()).expand({patches.size(0), 1, patches.size(2)});
  return pre_layrnorm->forward(torch::cat({cls, patches}, 1) + pos);
}

torch::Tensor VisionBackboneImpl::run_clip_layer(size_t index, const torch::Tensor& x) {
  std::optional<torch::NoGradGuard> frozen;
  if (!clip_trainable_) frozen.emplace();
  return clip_layers_[index]->forward(x);
}

ImageFeatures VisionBackboneImpl::encode_images(const torch::Tensor& images, VisionTrace* trace) {
  const int64_t patch = options_.vision().patch_size;
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) % patch == 0 && images.size(3) % patch == 0,
              "VisionBackbone: expected images [N, 3, H, W] with H and W multiples of ", patch, ", got ",
              images.sizes());
  torch::Tensor x;
  {
    std::optional<torch::NoGradGuard> frozen;
    if (!clip_trainable_) frozen.emplace();
    x = embed(images, position_table(images.size(2) / patch, images.size(3) / patch));
  }
  if (trace) trace->embeddings = x;
  for (size_t i = 0; i < clip_layers_.size(); ++i) {
    x = run_clip_layer(i, x);
    if (trace) trace->clip_hidden.push_back(x);
  }
  ImageFeatures out;
  out.tokens = x;
  out.pooled = post_layernorm->forward(x.select(1, 0));
  out.embeds = visual_projection->forward(out.pooled);
  return out;
}

VideoFeatures VisionBackboneImpl::forward(const torch::Tensor& video, const TubeMask* mask, VisionTrace* trace) {
  TORCH_CHECK(video.dim() == 5 && video.size(2) == 3, "VisionBackbone: expected video [B, T, 3, H, W], got ",
              video.sizes());
  const VisionConfig& v = options_.vision();
  Batch batch;
  batch.videos = video.size(0);
  batch.frames = video.size(1);
  batch.patches = (video.size(3) / v.patch_size) * (video.size(4) / v.patch_size);
  batch.width = v.width;
  TORCH_CHECK(depth() == 0 || batch.frames <= options_.adapter().max_frames, "VisionBackbone: expected at most ",
              options_.adapter().max_frames, " frames (rows of btadapter_time_embed), got ", batch.frames);
  if (mask) {
    TORCH_CHECK(depth() > 0, "VisionBackbone: a tube mask needs the branch (adapter depth > 0)");
    TORCH_CHECK(mask->batch() == batch.videos && mask->frames() == batch.frames && mask->num_patches() == batch.patches,
                "VisionBackbone: expected a mask for B=", batch.videos, " T=", batch.frames, " P=", batch.patches,
                ", got B=", mask->batch(), " T=", mask->frames(), " P=", mask->num_patches());
    batch.keep_index = mask->branch_index().to(video.device());
  }
  auto frames = video.reshape({batch.videos * batch.frames, 3, video.size(3), video.size(4)});
  ImageFeatures clip;
  torch::Tensor x2;
  if (depth() == 0) {
    clip = encode_images(frames, trace);
  } else {
    // Same as encode_images, with the branch levels interleaved after the last K CLIP layers.
    batch.pos = position_table(video.size(3) / v.patch_size, video.size(4) / v.patch_size);
    torch::Tensor x;
    {
      std::optional<torch::NoGradGuard> frozen;
      if (!clip_trainable_) frozen.emplace();
      x = embed(frames, batch.pos);
    }
    if (trace) trace->embeddings = x;
    const int64_t first = static_cast<int64_t>(clip_layers_.size()) - depth();
    for (size_t i = 0; i < clip_layers_.size(); ++i) {
      x = run_clip_layer(i, x);
      if (trace) trace->clip_hidden.push_back(x);
      if (static_cast<int64_t>(i) >= first) x2 = run_branch_level(static_cast<int64_t>(i) - first, x, x2, batch, trace);
    }
    clip.tokens = x;
  }
  VideoFeatures out;
  out.clip_tokens = clip.tokens;
  out.branch_tokens = x2;
  out.fused_cls = depth() == 0 ? clip.tokens.select(1, 0) : fuse_output(clip.tokens, x2, batch.frames);
  out.pooled = depth() == 0 ? clip.pooled : post_layernorm->forward(out.fused_cls);
  auto per_frame = depth() == 0 ? clip.embeds : visual_projection->forward(out.pooled);
  out.frame_embeds = per_frame.view({batch.videos, batch.frames, per_frame.size(-1)});
  out.video_embeds = out.frame_embeds.mean(1);
  return out;
}

torch::Tensor VisionBackboneImpl::run_branch_level(int64_t level, const torch::Tensor& clip_x, const torch::Tensor& x2,
                                                   const Batch& batch, VisionTrace* trace) {
  auto x1 = clip_x.view({batch.videos, batch.frames, batch.patches + 1, batch.width});
  auto cls_mean = x1.select(2, 0).mean(1, /*keepdim=*/true);  // [B, 1, W]
  auto patches = x1.narrow(2, 1, batch.patches);               // [B, T, P, W]
  torch::Tensor x;
  if (level == 0) {
    x = input_ini(cls_mean, patches, batch);
  } else {
    auto tokens = to_patch_major(patches);
    if (batch.keep_index.defined()) tokens = gather_tokens(tokens, batch.keep_index);
    auto clip_side = torch::cat({cls_mean, tokens}, 1);
    if (learned_fusion()) {
      auto w2 = torch::sigmoid(options_.adapter().middle_norm * balance2);
      x = (1 - w2) * x2 + w2 * clip_side;
    } else {
      x = x2 + clip_side;
    }
  }
  if (trace) trace->branch_in.push_back(x);
  return run_adapter_layers(level, x, batch.frames, trace);
}

torch::Tensor VisionBackboneImpl::input_ini(const torch::Tensor& cls_mean, const torch::Tensor& patches,
                                            const Batch& batch) {
  const int64_t t = batch.frames, w = batch.width;
  // CLIP's spatial position embedding is added a second time, then the learned time embedding.
  auto spatial = batch.pos.narrow(0, 1, batch.patches).view({1, 1, batch.patches, w});
  auto time = btadapter_time_embed->weight.narrow(0, 0, t).view({1, t, 1, w});
  auto tokens = to_patch_major((patches + spatial) + time);
  if (batch.keep_index.defined()) tokens = gather_tokens(tokens, batch.keep_index);
  auto video_cls = btadapter_cls_token + batch.pos.narrow(0, 0, 1).view({1, 1, w});
  auto cls = (cls_mean + video_cls) / 2;
  return torch::cat({cls, tokens}, 1);
}

torch::Tensor VisionBackboneImpl::run_adapter_layers(int64_t level, const torch::Tensor& x, int64_t frames,
                                                     VisionTrace* trace) {
  TemporalLayer temporal = temporal_layers_[level];
  SpatialLayer spatial = spatial_layers_[level];
  // Drop-path draws happen outside the layers so that a checkpointed recomputation replays them.
  auto drop_t = temporal->drop_path_scale(x, frames);
  auto drop_s = spatial->drop_path_scale(x, frames);
  const bool checkpointed =
      options_.gradient_checkpointing() && is_training() && torch::GradMode::is_enabled() && x.requires_grad();
  // Captured by value: a checkpointed layer calls these again during backward.
  auto run_t = [temporal, frames, drop_t](const torch::Tensor& in) mutable { return temporal->forward(in, frames, drop_t); };
  auto run_s = [spatial, frames, drop_s](const torch::Tensor& in) mutable { return spatial->forward(in, frames, drop_s); };
  auto h = checkpointed ? gradient_checkpoint(run_t, x) : run_t(x);
  if (trace) trace->branch_t.push_back(h);
  auto y = checkpointed ? gradient_checkpoint(run_s, h) : run_s(h);
  if (trace) trace->branch_out.push_back(y);
  return y;
}

torch::Tensor VisionBackboneImpl::fuse_output(const torch::Tensor& clip_x, const torch::Tensor& x2, int64_t frames) {
  auto clip_cls = clip_x.select(1, 0);  // [B*T, W]
  const int64_t b = x2.size(0), w = x2.size(2);
  auto branch_cls = x2.select(1, 0).unsqueeze(1).expand({b, frames, w}).reshape({b * frames, w});
  if (!learned_fusion()) return clip_cls + branch_cls;
  auto w1 = torch::sigmoid(options_.adapter().out_norm * balance1);
  return (1 - w1) * branch_cls + w1 * clip_cls;
}

}  // namespace btadapter
