#pragma once
/// The BT-Adapter vision tower of the conversation model (official `llava_base/bt_adapter`,
/// `VITCLIPPretrained_BTAdapter` as `build_btadapter_from_CLIP` builds it): a CLIP ViT with the adapter
/// branch interleaved, producing the P+1 video tokens a LLaVA-style LLM splices in (fixture contract:
/// tests/fixtures/conversation/README.md, sections 1, 2 and 7).
///
/// Module names are the official module's state-dict keys: class_embedding, patch_embedding.weight,
/// position_embedding.weight, pre_layrnorm.*, layers.{i}.*, btadapter_{S,T}_layers.{k}.*,
/// btadapter_time_embed.weight, btadapter_cls_token, balance2.
///
/// Inference (`video_tokens`, frames [T,3,S,S] of one video): embeddings, pre_layrnorm, CLIP layers
/// 0..L-2; adapter layer k (k = 0, 1, 2) runs after CLIP layer L-4+k:
///   k = 0: input_ini: cls = (mean_t CLIP cls + btadapter_cls_token + pos[0]) / 2; patches + pos[1..P]
///          (a second time) + time_embed[t], patch-major (l t) order -> [1, 1+P*T', W]
///   k > 0: (1-w) x2 + w [mean_t CLIP cls; CLIP patches (l t)], w = sigmoid(middle_norm * balance2)
///   then the temporal layer and the spatial layer (model/adapter_layers.h) with group size t.
/// The tokens are combine(output of CLIP layer L-2, output of adapter layer 2) (the official
/// `hidden_states[-2]`), averaged over the batch axis:
///   combine = cat((mean_t CLIP patches + mean_t branch patches) / 2, (mean_t CLIP cls + branch cls) / 2)
/// -> [P+1, W], patches first and the combined cls LAST. CLIP layer L-1 and adapter layer 3 are never
/// built: the official code runs them but they do not reach the LLM (quirk 4). `post_layernorm`,
/// `balance1` and `out_norm` only shape the pooled cls, which the LLM never gets, so they are not here.
///
/// Frame counts (T input frames, P patches; README section 2):
///   kOfficial (default, what the released model was trained and evaluated with): T > 64 averages
///     frame pairs (2i, 2i+1) for the branch (T' = T/2), else T' = T; the group size is t = T//2
///     always, so for T <= 64 the temporal layer attends over runs of T/2 frames and the spatial layer
///     over frames t' and t'+T/2 together. Refused (the official code crashes): T = 1, odd T > 64,
///     T > 128 (more than 64 time-embedding rows), P*T not divisible by T//2.
///   kAllFrames (the paper's intent): as kOfficial but t = T' (temporal attention over all frames);
///     refused: odd T > 64, T' > 64.
///
/// Training build (`train_video_tokens`, README section 7): pre-extracted features (the tokens entering
/// CLIP layer L-4, [B,T,P+1,W]) through CLIP layers L-4..L-2 with adapter layers 0..2 -> [B,P+1,W].
/// CLIP layers run without autograd (frozen, and no trainable tensor reaches them); gradients flow into
/// the btadapter_* parameters. Drop path (rates drop_path * k/3, official linspace(0, 0.1, 4)) acts in
/// training mode only.
///
/// Parameters are created with requires_grad false for CLIP, position_embedding and balance2, true for
/// btadapter_* (the official trainable set: 'btadapter' in name and '3' not in name).
///
/// Thread safety: forward calls do not mutate the module.

#include "btadapter/config/enum_names.h"
#include "btadapter/io/safetensors.h"
#include "btadapter/model/adapter_layers.h"

#include <torch/arg.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>

#include <vector>

namespace btadapter::chat {

/// The adapter's group size rule (README section 2).
enum class FrameRule {
  kOfficial,   ///< t = T//2 always (bt:151), the released model's regime
  kAllFrames,  ///< t = T' (temporal attention over all branch frames), the paper's intent
};

/// Options of VideoTower; defaults are CLIP ViT-L/14 at 224 px (the released model).
struct VideoTowerOptions {
  /// CLIP width W; default 1024.
  TORCH_ARG(int64_t, width) = 1024;
  /// CLIP vision layers L (>= 4); default 24. Only layers 0..L-2 are built.
  TORCH_ARG(int64_t, layers) = 24;
  /// Attention heads (CLIP and adapter); default 16.
  TORCH_ARG(int64_t, heads) = 16;
  /// MLP hidden size; default 4096.
  TORCH_ARG(int64_t, mlp_dim) = 4096;
  /// Patch side p; default 14.
  TORCH_ARG(int64_t, patch_size) = 14;
  /// Input side S (square), a multiple of patch_size; default 224.
  TORCH_ARG(int64_t, image_size) = 224;
  /// CLIP LayerNorm epsilon; default 1e-5. (The adapter layers' LayerNorms use PyTorch's 1e-5 always,
  /// as the official nn.LayerNorm(embed_dim).) The activation is quick_gelu (model/encoder_layer.h).
  TORCH_ARG(double, layer_norm_eps) = 1e-5;
  /// Rows of btadapter_time_embed; default 64.
  TORCH_ARG(int64_t, time_embed_rows) = 64;
  /// The factor of balance2 in the middle mixing; default 1e2 (build_btadapter_from_CLIP).
  TORCH_ARG(double, middle_norm) = 1e2;
  /// Frame-count rule; default kOfficial.
  TORCH_ARG(FrameRule, frame_rule) = FrameRule::kOfficial;
  /// Drop-path base rate of the adapter layers (layer k gets rate * k / 3), training mode only;
  /// default 0 (deterministic; the official trainer ran 0.1).
  TORCH_ARG(double, drop_path) = 0.0;

 public:
  /// Patches per frame P = (image_size / patch_size)^2.
  int64_t num_patches() const;
  /// Checks the sizes; throws c10::Error naming the bad one.
  void validate() const;
};

/// How one clip of T frames runs through the branch.
struct FramePlan {
  int64_t frames = 0;          ///< T, input frames (the combination averages all of them)
  int64_t branch_frames = 0;   ///< T': T/2 when frame pairs are averaged, else T
  bool pair_average = false;   ///< T > time_embed_rows
  int64_t group = 0;           ///< t, the group size of the temporal and spatial layers
};

class VideoTowerImpl : public torch::nn::Module {
 public:
  /// Random weights (CLIP default init; the branch as the official fresh init: zero temporal_fc,
  /// cls token and balance2). Load real weights with chat/video_tower_weights.h.
  explicit VideoTowerImpl(const VideoTowerOptions& options = {});

  /// The branch plan for T frames under options().frame_rule(); throws c10::Error for the refused
  /// counts (see the header comment), naming T and the reason.
  FramePlan frame_plan(int64_t frames) const;

  /// Frames [T,3,S,S] float (CLIP-normalised) of ONE video -> video tokens [P+1,W] (patches, then the
  /// combined cls). Runs without autograd.
  torch::Tensor video_tokens(const torch::Tensor& frames);

  /// video_tokens with every intermediate, named as the fixture's `inf.*` tensors without the prefix:
  /// hidden_states.{0..L-1}, clip_layer.{L-4..L-2}, adapter_in/adapter_t/adapter_out.{0,1,2},
  /// video_tokens.
  io::TensorMap trace(const torch::Tensor& frames);

  /// Training build: features [B,T,P+1,W] (tokens entering CLIP layer L-4) -> [B,P+1,W], differentiable
  /// in the branch parameters. `trace`, when given, gets clip_layer.*, adapter_*.{0,1,2} and video_tokens.
  torch::Tensor train_video_tokens(const torch::Tensor& features, io::TensorMap* trace = nullptr);

  /// The btadapter_* parameters (the official trainable set of the vision tower), by name.
  std::vector<std::pair<std::string, torch::Tensor>> branch_parameters() const;

  const VideoTowerOptions& options() const { return options_; }

  // CLIP vision (frozen).
  torch::Tensor class_embedding;
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
  torch::nn::LayerNorm pre_layrnorm{nullptr};
  torch::nn::ModuleList layers{nullptr};
  // The branch.
  torch::Tensor balance2;
  torch::nn::ModuleList btadapter_S_layers{nullptr};
  torch::nn::ModuleList btadapter_T_layers{nullptr};
  torch::nn::Embedding btadapter_time_embed{nullptr};
  torch::Tensor btadapter_cls_token;

 private:
  torch::Tensor embed(const torch::Tensor& frames);
  torch::Tensor run_from(torch::Tensor x, int64_t videos, int64_t first_layer, io::TensorMap* trace);
  torch::Tensor branch_level(int64_t level, const torch::Tensor& clip_x, const torch::Tensor& x2,
                             int64_t videos, const FramePlan& plan);
  torch::Tensor combine(const torch::Tensor& clip_x, const torch::Tensor& x2, int64_t videos,
                        const FramePlan& plan) const;

  VideoTowerOptions options_;
  std::vector<ClipEncoderLayer> clip_layers_;
  std::vector<TemporalLayer> temporal_layers_;
  std::vector<SpatialLayer> spatial_layers_;
};
TORCH_MODULE(VideoTower);

/// Adapter layers of the conversation tower (the official depth 4 less the dead layer 3).
constexpr int64_t kChatAdapterLayers = 3;

}  // namespace btadapter::chat

namespace btadapter {

template <>
struct EnumNames<chat::FrameRule> {
  static constexpr const char* kWhat = "frame rule";
  static constexpr std::array<std::pair<chat::FrameRule, const char*>, 2> kNames{{
      {chat::FrameRule::kOfficial, "official"},
      {chat::FrameRule::kAllFrames, "all_frames"}}};
};

}  // namespace btadapter
