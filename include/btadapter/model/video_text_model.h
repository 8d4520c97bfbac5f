#pragma once
/// BT-Adapter video-text model: the official `CLIPSimilarity_split` recogniser. Usage:
///
///   btadapter::VideoTextModel model(config);            // random weights, CLIP frozen
///   <load weights with btadapter/io>                     // named_parameters() = official keys
///   model->eval();
///   auto video = model->encode_video(frames).video_embeds;   // frames [B, T, 3, H, W] -> [B, E]
///   auto text = model->encode_text(ids);                     // ids [B, L] int64     -> [B, E]
///
/// Training (pretraining with asymmetric masking, paper 3.3):
///
///   model->train();
///   auto mask = TubeMaskGenerator(P, config.adapter.mask_ratio, config.adapter.mask_layout).generate(B, T, gen);
///   auto enc = model->encode_video(frames, &mask);
///   auto mbca = model->mbca_features(enc.branch_tokens);                          // [B, E]
///   auto mbta = model->mbta_features(enc.branch_tokens, enc.clip_tokens, mask.target_index());
///   <gather video/text/mbca across ranks, then btadapter/loss/pretrain_loss.h>
///
/// Parameters: `backbone.*` (VisionBackbone), `text_backbone.*` (TextBackbone), and with depth > 0
/// `extra_proj.{0,1}.*` = Sequential(Linear(W, E), LayerNorm(E)), the MBTA head. CLIP (vision and text)
/// is frozen by default; trainable are exactly the names containing `btadapter`, `balance` or
/// `extra_proj` (the official `_freeze_stages` rule).
///
/// Thread safety: encode_* do not mutate the module; concurrent calls in eval mode are safe.

#include "btadapter/config/model_config.h"
#include "btadapter/model/text_backbone.h"
#include "btadapter/model/tube_mask.h"
#include "btadapter/model/vision_backbone.h"

#include <torch/nn/modules/container/sequential.h>

#include <string>
#include <utility>
#include <vector>

namespace btadapter {

/// Paired MBTA features: element k of `branch` is aligned with element k of `target`.
struct MbtaFeatures {
  torch::Tensor branch;  ///< [B, n, E] extra_proj(branch patch tokens)
  torch::Tensor target;  ///< [B, n, E] visual_projection(post_layernorm(paired CLIP patch tokens)), no grad
};

class VideoTextModelImpl : public torch::nn::Module {
 public:
  /// Validates `config` and builds the model with random weights (branch per the official fresh init).
  explicit VideoTextModelImpl(const ModelConfig& config);

  /// video [B, T, 3, H, W] float -> VideoFeatures (video_embeds [B, E], frame_embeds, branch and CLIP
  /// tokens). `mask` drops branch tokens (training); `trace` collects intermediates.
  VideoFeatures encode_video(const torch::Tensor& video, const TubeMask* mask = nullptr, VisionTrace* trace = nullptr);

  /// ids [B, L] int64 -> [B, E].
  torch::Tensor encode_text(const torch::Tensor& ids, TextTrace* trace = nullptr);

  /// MBCA video feature: mean over the branch patch tokens of visual_projection(branch_tokens[:, 1:])
  /// (no post_layernorm, as the official code), [B, E].
  torch::Tensor mbca_features(const torch::Tensor& branch_tokens);

  /// MBTA pairs. `branch_tokens` [B, 1+n, W]; `clip_tokens` [B*T, 1+P, W] (last CLIP layer, rows (b t));
  /// `target_index` [B, n] int64 indices t*P + p of each branch token's target among the video's CLIP
  /// patch tokens (TubeMask::target_index() or aligned_target_index()).
  MbtaFeatures mbta_features(const torch::Tensor& branch_tokens, const torch::Tensor& clip_tokens,
                             const torch::Tensor& target_index);

  /// Parameters that train (requires_grad true), in named_parameters() order.
  std::vector<torch::Tensor> trainable_parameters() const;
  std::vector<std::pair<std::string, torch::Tensor>> named_trainable_parameters() const;

  /// Freezes CLIP (default) or unfreezes it (full fine-tuning: CLIP then runs with autograd).
  void set_clip_trainable(bool trainable);

  /// Recomputes each adapter layer in backward instead of storing its activations (default off; the
  /// official pretraining config turns it on). Gradients are unchanged; see checkpoint.h for the
  /// requirement that training calls backward().
  void set_gradient_checkpointing(bool enabled) { backbone->set_gradient_checkpointing(enabled); }

  /// The official initialisation of a fresh branch, to call after loading CLIP weights: S-layers copied
  /// from the last K CLIP layers; T-layers default Linear init with temporal_fc zero; time embedding
  /// N(0, 1); cls token and balances zero; extra_proj default init. Uses the global torch RNG (seed it
  /// with torch::manual_seed for reproducibility).
  void init_branch_from_clip();

  const ModelConfig& config() const { return config_; }

  VisionBackbone backbone{nullptr};
  TextBackbone text_backbone{nullptr};
  torch::nn::Sequential extra_proj{nullptr};  ///< null at depth 0

 private:
  ModelConfig config_;
};
TORCH_MODULE(VideoTextModel);

}  // namespace btadapter
