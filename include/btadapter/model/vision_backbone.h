#pragma once
/// The video encoder: a frozen CLIP ViT plus the BT-Adapter branch, registered so that
/// `named_parameters()` gives the official `backbone.*` names (the canonical names of io/weight_naming.h):
///
///   class_embedding, patch_embedding.weight, position_embedding.weight, pre_layrnorm, layers.{i},
///   post_layernorm, visual_projection.weight                          (CLIP vision, frozen)
///   btadapter_T_layers.{k}, btadapter_S_layers.{k}, btadapter_time_embed.weight, btadapter_cls_token,
///   balance1, balance2 (learned fusion only)                           (the branch, trainable)
///
/// Forward (reference.md 6.3; K = adapter depth, L = CLIP layers, video [B, T, 3, H, W]):
/// 1. Every frame is embedded (patch conv, class token, position embedding, pre_layrnorm) and runs
///    through the CLIP layers without autograd while CLIP is frozen.
/// 2. After CLIP layer L-K+k the branch level k runs on that layer's tokens: level 0 builds its input
///    (`input_ini`: video class token = (mean_t CLIP cls + btadapter_cls_token + pos[0]) / 2; patches
///    + CLIP position embedding again + time embedding rows 0..T-1; (l t) order; mask applied); a level
///    k > 0 mixes the previous branch output x2 with x1 = [mean_t CLIP cls; CLIP patches in (l t) order,
///    masked] as (1-w2) x2 + w2 x1, w2 = sigmoid(middle_norm * balance2), or x2 + x1 (add fusion).
///    Each level is TemporalLayer then SpatialLayer.
/// 3. Per frame, fused cls = (1-w1) branch_cls + w1 clip_cls, w1 = sigmoid(out_norm * balance1), or the
///    sum (add fusion); then post_layernorm, visual_projection, and the mean over T.
/// With depth 0 the backbone is plain CLIP and the video embedding is the mean of the frame embeddings.
///
/// Inputs of another resolution than `vision.image_size` use a bicubically resized position table (the
/// class position kept). Thread safety: forward passes do not mutate the module.

#include "btadapter/config/model_config.h"
#include "btadapter/model/adapter_layers.h"
#include "btadapter/model/tube_mask.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>

#include <vector>

namespace btadapter {

/// Options of VisionBackbone.
struct VisionBackboneOptions {
  VisionBackboneOptions(VisionConfig vision, AdapterConfig adapter, int64_t embed_dim)
      : vision_(vision), adapter_(adapter), embed_dim_(embed_dim) {}
  /// The CLIP ViT sizes.
  TORCH_ARG(VisionConfig, vision);
  /// Branch depth (0 = plain CLIP), fusion, drop path, time-embedding rows.
  TORCH_ARG(AdapterConfig, adapter);
  /// Output size of visual_projection.
  TORCH_ARG(int64_t, embed_dim);
  /// Recompute each adapter layer in backward instead of storing its activations; default false.
  TORCH_ARG(bool, gradient_checkpointing) = false;
};

/// Intermediate tensors of a forward pass; filled only when passed in (costs memory, not time).
struct VisionTrace {
  torch::Tensor embeddings;                ///< [N, 1+P, W] after pre_layrnorm (N = B*T frames, rows (b t))
  std::vector<torch::Tensor> clip_hidden;  ///< output of every CLIP layer, [N, 1+P, W]
  std::vector<torch::Tensor> branch_in;    ///< input of adapter level k (of btadapter_T_layers.k) [B, 1+n, W]
  std::vector<torch::Tensor> branch_t;     ///< output of btadapter_T_layers.k [B, 1+n, W]
  std::vector<torch::Tensor> branch_out;   ///< output of btadapter_S_layers.k [B, 1+n, W]
};

/// Plain CLIP image encoding.
struct ImageFeatures {
  torch::Tensor tokens;  ///< [N, 1+P, W] last CLIP layer output (before post_layernorm)
  torch::Tensor pooled;  ///< [N, W] post_layernorm(class token)
  torch::Tensor embeds;  ///< [N, E] visual_projection(pooled)
};

/// BT-Adapter video encoding. n = P*T branch patch tokens without mask, (P-M)*T with one.
struct VideoFeatures {
  torch::Tensor video_embeds;   ///< [B, E] mean over T of frame_embeds
  torch::Tensor frame_embeds;   ///< [B, T, E] visual_projection(pooled)
  torch::Tensor fused_cls;      ///< [B*T, W] fused class token before post_layernorm (CLIP cls at depth 0)
  torch::Tensor pooled;         ///< [B*T, W] post_layernorm(fused_cls)
  torch::Tensor branch_tokens;  ///< [B, 1+n, W] last adapter level output; undefined at depth 0
  torch::Tensor clip_tokens;    ///< [B*T, 1+P, W] last CLIP layer output (no autograd history when frozen)
};

class VisionBackboneImpl : public torch::nn::Module {
 public:
  /// Builds CLIP with default (random) weights and the branch with the official fresh-branch init
  /// (zero temporal_fc, cls token and balances; N(0,1) time embedding; S-layers random until
  /// init_spatial_from_clip()). CLIP starts frozen.
  explicit VisionBackboneImpl(const VisionBackboneOptions& options);

  /// Video [B, T, 3, H, W] float (H, W multiples of the patch size) -> features. `mask` (training) drops
  /// branch tokens; it must match B, T and P. `trace` collects intermediates when given.
  VideoFeatures forward(const torch::Tensor& video, const TubeMask* mask = nullptr, VisionTrace* trace = nullptr);

  /// Plain CLIP on images [N, 3, H, W] (no branch). `trace` gets embeddings and clip_hidden.
  ImageFeatures encode_images(const torch::Tensor& images, VisionTrace* trace = nullptr);

  /// The position table for a gh x gw patch grid, [1 + gh*gw, W].
  torch::Tensor position_table(int64_t grid_h, int64_t grid_w) const;

  /// Frozen (default): CLIP parameters have requires_grad false and CLIP runs under NoGradGuard.
  void set_clip_trainable(bool trainable);
  bool clip_trainable() const { return clip_trainable_; }

  /// Switches gradient checkpointing of the adapter layers (effective in training with autograd on).
  void set_gradient_checkpointing(bool enabled) { options_.gradient_checkpointing(enabled); }

  /// Copies CLIP layer L-K+k into btadapter_S_layers.k (the official init, after loading CLIP).
  void init_spatial_from_clip();

  const VisionBackboneOptions& options() const { return options_; }
  int64_t depth() const { return options_.adapter().depth; }
  bool learned_fusion() const { return depth() > 0 && options_.adapter().fusion == FusionMode::kLearned; }

  /// True for the names (relative to this module) of branch parameters: btadapter_* and balance*.
  static bool is_branch_parameter(const std::string& name);

  // CLIP vision.
  torch::Tensor class_embedding;
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
  torch::nn::LayerNorm pre_layrnorm{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};
  torch::nn::Linear visual_projection{nullptr};
  // The branch (depth > 0); balance* with learned fusion only.
  torch::Tensor balance1, balance2;
  torch::nn::ModuleList btadapter_S_layers{nullptr};
  torch::nn::ModuleList btadapter_T_layers{nullptr};
  torch::nn::Embedding btadapter_time_embed{nullptr};
  torch::Tensor btadapter_cls_token;

 private:
  struct Batch;  // per-forward sizes and the position table
  torch::Tensor embed(const torch::Tensor& frames, const torch::Tensor& pos);
  torch::Tensor run_clip_layer(size_t index, const torch::Tensor& x);
  torch::Tensor run_branch_level(int64_t level, const torch::Tensor& clip_x, const torch::Tensor& x2,
                                 const Batch& batch, VisionTrace* trace);
  torch::Tensor input_ini(const torch::Tensor& cls_mean, const torch::Tensor& patches, const Batch& batch);
  torch::Tensor run_adapter_layers(int64_t level, const torch::Tensor& x, int64_t frames, VisionTrace* trace);
  torch::Tensor fuse_output(const torch::Tensor& clip_x, const torch::Tensor& x2, int64_t frames);

  VisionBackboneOptions options_;
  bool clip_trainable_ = false;
  std::vector<ClipEncoderLayer> clip_layers_;
  std::vector<TemporalLayer> temporal_layers_;
  std::vector<SpatialLayer> spatial_layers_;
};
TORCH_MODULE(VisionBackbone);

}  // namespace btadapter
