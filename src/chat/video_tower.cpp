#include "btadapter/chat/video_tower.h"

#include <torch/torch.h>

#include <optional>

namespace btadapter::chat {
namespace {

// Patch tokens [B, T, P, W] -> the branch's patch-major (l t) sequence [B, P*T, W].
torch::Tensor to_patch_major_tokens(const torch::Tensor& patches) {
  return patches.transpose(1, 2).reshape({patches.size(0), patches.size(1) * patches.size(2), patches.size(3)});
}

bool is_branch_name(const std::string& name) { return name.rfind("btadapter", 0) == 0; }

}  // namespace

int64_t VideoTowerOptions::num_patches() const {
  const int64_t grid = image_size() / patch_size();
  return grid * grid;
}

void VideoTowerOptions::validate() const {
  TORCH_CHECK(width() > 0 && heads() > 0 && width() % heads() == 0,
              "VideoTower: expected width divisible by heads, got width ", width(), " and heads ", heads());
  TORCH_CHECK(layers() >= 4, "VideoTower: expected at least 4 CLIP layers (the adapter follows layers L-4..L-2), got ",
              layers());
  TORCH_CHECK(mlp_dim() > 0, "VideoTower: expected mlp_dim > 0, got ", mlp_dim());
  TORCH_CHECK(patch_size() > 0 && image_size() >= patch_size() && image_size() % patch_size() == 0,
              "VideoTower: expected image_size a multiple of patch_size, got ", image_size(), " and ", patch_size());
  TORCH_CHECK(time_embed_rows() >= 1, "VideoTower: expected time_embed_rows >= 1, got ", time_embed_rows());
  TORCH_CHECK(drop_path() >= 0.0 && drop_path() < 1.0, "VideoTower: expected drop_path in [0, 1), got ", drop_path());
}

VideoTowerImpl::VideoTowerImpl(const VideoTowerOptions& options) : options_(options) {
  options.validate();
  const int64_t w = options.width();
  class_embedding = register_parameter("class_embedding", torch::randn({w}));
  patch_embedding = register_module(
      "patch_embedding",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(3, w, options.patch_size()).stride(options.patch_size()).bias(false)));
  position_embedding = register_module("position_embedding", torch::nn::Embedding(options.num_patches() + 1, w));
  pre_layrnorm = register_module("pre_layrnorm", make_layer_norm(w, options.layer_norm_eps()));
  layers = register_module("layers", torch::nn::ModuleList());
  // Layers 0..L-2 only: layer L-1 runs after the tapped hidden state (quirk 4).
  for (int64_t i = 0; i + 1 < options.layers(); ++i) {
    clip_layers_.push_back(ClipEncoderLayer(
        ClipEncoderLayerOptions(w, options.heads(), options.mlp_dim()).layer_norm_eps(options.layer_norm_eps())));
    layers->push_back(clip_layers_.back());
  }
  balance2 = register_parameter("balance2", torch::zeros({w}));
  btadapter_S_layers = register_module("btadapter_S_layers", torch::nn::ModuleList());
  btadapter_T_layers = register_module("btadapter_T_layers", torch::nn::ModuleList());
  const int64_t first = options.layers() - 4;
  for (int64_t k = 0; k < kChatAdapterLayers; ++k) {
    // Official rates linspace(0, 0.1, 4)[k], fixed before the training build drops to 3 layers (quirk 16).
    auto layer_options = AdapterLayerOptions(w, options.heads(), options.mlp_dim())
                             .layer_norm_eps(1e-5)
                             .drop_path(options.drop_path() * static_cast<double>(k) / 3.0);
    spatial_layers_.push_back(SpatialLayer(layer_options));
    temporal_layers_.push_back(TemporalLayer(layer_options));
    btadapter_S_layers->push_back(spatial_layers_.back());
    btadapter_T_layers->push_back(temporal_layers_.back());
  }
  btadapter_time_embed = register_module("btadapter_time_embed", torch::nn::Embedding(options.time_embed_rows(), w));
  btadapter_cls_token = register_parameter("btadapter_cls_token", torch::zeros({1, 1, w}));
  {
    // The official init copies CLIP layer L-4+k into S layer k.
    torch::NoGradGuard no_grad;
    for (int64_t k = 0; k < kChatAdapterLayers; ++k) {
      auto source = clip_layers_[first + k]->named_parameters();
      for (auto& item : spatial_layers_[k]->named_parameters()) item.value().copy_(source[item.key()]);
    }
  }
  for (auto& item : named_parameters()) item.value().set_requires_grad(is_branch_name(item.key()));
}

FramePlan VideoTowerImpl::frame_plan(int64_t frames) const {
  const int64_t rows = options_.time_embed_rows();
  TORCH_CHECK(frames >= 1, "VideoTower: expected at least 1 frame, got ", frames);
  FramePlan plan;
  plan.frames = frames;
  plan.pair_average = frames > rows;
  if (plan.pair_average) {
    TORCH_CHECK(frames % 2 == 0, "VideoTower: expected an even frame count above ", rows,
                " (frame pairs are averaged; the official rearrange fails on odd counts), got ", frames);
    TORCH_CHECK(frames / 2 <= rows, "VideoTower: expected at most ", 2 * rows, " frames (", rows,
                " btadapter_time_embed rows after pair averaging), got ", frames);
  }
  plan.branch_frames = plan.pair_average ? frames / 2 : frames;
  if (options_.frame_rule() == FrameRule::kAllFrames) {
    plan.group = plan.branch_frames;
    return plan;
  }
  TORCH_CHECK(frames >= 2, "VideoTower: the official frame rule needs at least 2 frames (group t = T//2 is 0 for T = ",
              frames, "; the official code divides by zero)");
  plan.group = frames / 2;
  const int64_t tokens = options_.num_patches() * plan.branch_frames;
  TORCH_CHECK(tokens % plan.group == 0, "VideoTower: the official frame rule needs P*T (", tokens,
              ") divisible by T//2 (", plan.group, "), got T = ", frames);
  return plan;
}

std::vector<std::pair<std::string, torch::Tensor>> VideoTowerImpl::branch_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters()) {
    if (is_branch_name(item.key())) out.emplace_back(item.key(), item.value());
  }
  return out;
}

torch::Tensor VideoTowerImpl::embed(const torch::Tensor& frames) {
  const int64_t s = options_.image_size();
  TORCH_CHECK(frames.dim() == 4 && frames.size(1) == 3 && frames.size(2) == s && frames.size(3) == s,
              "VideoTower: expected frames [T, 3, ", s, ", ", s, "], got ", frames.sizes());
  frame_plan(frames.size(0));  // refuse a frame count before any compute
  auto patches = patch_embedding->forward(frames).flatten(2).transpose(1, 2);  // [T, P, W]
  auto cls = class_embedding.expand({patches.size(0), 1, patches.size(2)});
  return pre_layrnorm->forward(torch::cat({cls, patches}, 1) + position_embedding->weight);
}

torch::Tensor VideoTowerImpl::video_tokens(const torch::Tensor& frames) {
  torch::NoGradGuard no_grad;
  return run_from(embed(frames), 1, 0, nullptr).mean(0);  // the official batch mean (quirk 11)
}

io::TensorMap VideoTowerImpl::trace(const torch::Tensor& frames) {
  torch::NoGradGuard no_grad;
  io::TensorMap out;
  out["video_tokens"] = run_from(embed(frames), 1, 0, &out).mean(0);
  return out;
}

torch::Tensor VideoTowerImpl::train_video_tokens(const torch::Tensor& features, io::TensorMap* trace) {
  const int64_t tokens = options_.num_patches() + 1, w = options_.width();
  TORCH_CHECK(features.dim() == 4 && features.size(2) == tokens && features.size(3) == w,
              "VideoTower: expected features [B, T, ", tokens, ", ", w, "], got ", features.sizes());
  auto x = features.reshape({features.size(0) * features.size(1), tokens, w});
  auto out = run_from(x, features.size(0), options_.layers() - 4, trace);
  if (trace) (*trace)["video_tokens"] = out;
  return out;
}

torch::Tensor VideoTowerImpl::run_from(torch::Tensor x, int64_t videos, int64_t first_layer, io::TensorMap* trace) {
  TORCH_CHECK(x.size(0) % videos == 0, "VideoTower: expected ", videos, " videos of equal length, got ", x.size(0),
              " frames");
  const FramePlan plan = frame_plan(x.size(0) / videos);
  const int64_t last = options_.layers() - 2, first_adapter = options_.layers() - 4;
  const bool inference_trace = trace && first_layer == 0;
  torch::Tensor x2;
  for (int64_t idx = first_layer; idx <= last; ++idx) {
    if (inference_trace) {
      (*trace)["hidden_states." + std::to_string(idx)] = x2.defined() ? combine(x, x2, videos, plan) : x;
    }
    {
      torch::NoGradGuard frozen;  // CLIP is frozen and no trainable tensor flows into it
      x = clip_layers_[idx]->forward(x);
    }
    if (idx < first_adapter) continue;
    if (trace) (*trace)["clip_layer." + std::to_string(idx)] = x;
    const int64_t level = idx - first_adapter;
    auto in = branch_level(level, x, x2, videos, plan);
    TemporalLayer temporal = temporal_layers_[level];
    SpatialLayer spatial = spatial_layers_[level];
    auto h = temporal->forward(in, plan.group, temporal->drop_path_scale(in, plan.group));
    x2 = spatial->forward(h, plan.group, spatial->drop_path_scale(h, plan.group));
    if (trace) {
      const std::string k = std::to_string(level);
      (*trace)["adapter_in." + k] = in;
      (*trace)["adapter_t." + k] = h;
      (*trace)["adapter_out." + k] = x2;
    }
  }
  auto tokens = combine(x, x2, videos, plan);
  if (inference_trace) (*trace)["hidden_states." + std::to_string(last + 1)] = tokens;
  return tokens;
}

torch::Tensor VideoTowerImpl::branch_level(int64_t level, const torch::Tensor& clip_x, const torch::Tensor& x2,
                                           int64_t videos, const FramePlan& plan) {
  const int64_t p = options_.num_patches(), w = options_.width(), t = plan.branch_frames;
  auto x1 = clip_x.reshape({videos, plan.frames, p + 1, w});
  if (plan.pair_average) x1 = x1.reshape({videos, t, 2, p + 1, w}).mean(2);
  auto cls_mean = x1.select(2, 0).mean(1, /*keepdim=*/true);  // [B, 1, W]
  auto patches = x1.narrow(2, 1, p);                           // [B, T', P, W]
  if (level == 0) {
    // input_ini: CLIP's position rows once more, then the time embedding.
    const auto& pos = position_embedding->weight;
    auto spatial = pos.narrow(0, 1, p).view({1, 1, p, w});
    auto time = btadapter_time_embed->weight.narrow(0, 0, t).view({1, t, 1, w});
    auto tokens = to_patch_major_tokens((patches + spatial) + time);
    auto cls = (cls_mean + (btadapter_cls_token + pos.narrow(0, 0, 1).view({1, 1, w}))) / 2;
    return torch::cat({cls.expand({videos, 1, w}), tokens}, 1);
  }
  auto clip_side = torch::cat({cls_mean, to_patch_major_tokens(patches)}, 1);
  auto gate = torch::sigmoid(options_.middle_norm() * balance2);
  return (1 - gate) * x2 + gate * clip_side;
}

torch::Tensor VideoTowerImpl::combine(const torch::Tensor& clip_x, const torch::Tensor& x2, int64_t videos,
                                      const FramePlan& plan) const {
  const int64_t p = options_.num_patches(), w = options_.width();
  auto x = clip_x.reshape({videos, plan.frames, p + 1, w});  // all T frames, even when the branch pairs them
  auto x_patch = x.narrow(2, 1, p).mean(1);
  auto x_cls = x.narrow(2, 0, 1).mean(1);
  auto x2_patch = x2.narrow(1, 1, p * plan.branch_frames).reshape({videos, p, plan.branch_frames, w}).mean(2);
  auto x2_cls = x2.narrow(1, 0, 1);
  return torch::cat({(x_patch + x2_patch) / 2, (x_cls + x2_cls) / 2}, 1);
}

}  // namespace btadapter::chat
