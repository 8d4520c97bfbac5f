#pragma once
/// Architecture inference: the ModelConfig that a set of canonical weights (see weight_naming.h) was
/// trained with, read from tensor shapes the way OpenAI's `build_model` does.
///
///   field                    from
///   vision.width             backbone.patch_embedding.weight [W, 3, p, p]
///   vision.patch_size        its last dim p (square patches)
///   vision.image_size        p * sqrt(rows(backbone.position_embedding.weight) - 1)
///   vision.layers            number of backbone.layers.{i} (indices must be 0..n-1)
///   vision.mlp_dim           rows of backbone.layers.0.mlp.fc1.weight
///   text.vocab_size, width   text_backbone.text_model.embeddings.token_embedding.weight [V, Wt]
///   text.context_length      rows of ...embeddings.position_embedding.weight
///   text.layers, mlp_dim     as for vision, under text_backbone.text_model.encoder.layers
///   embed_dim                rows of backbone.visual_projection.weight [E, W] (= text_projection's)
///   adapter.depth            number of backbone.btadapter_S_layers.{k} (T layers must match)
///   adapter.fusion           kLearned when backbone.balance1/2 exist, else kAdd
///   adapter.max_frames       rows of backbone.btadapter_time_embed.weight
///
/// Attention heads do not show in any shape: they default to OpenAI's rule width / 64 (at least 1) and
/// can be given explicitly (ViT-B/16: vision 12, text 8 follow the rule; the tiny test fixtures use a
/// head size of 16: vision 64 wide with 4 heads, text 16 wide with 2). Everything else (layer-norm eps,
/// tokenizer, text pooling, masking, gate norms, drop path) comes from `base`, and so does the whole
/// adapter section when the weights hold no adapter (a CLIP-only file).
///
/// Usage:
///   ModelConfig config = infer_model_config(canonical, InferConfigOptions().vision_heads(16));
///
/// Thread safety: pure function.

#include <torch/arg.h>

#include "btadapter/config/model_config.h"
#include "btadapter/io/safetensors.h"

namespace btadapter::io {

struct InferConfigOptions {
  /// Vision attention heads; default 0: vision width / 64 (at least 1).
  TORCH_ARG(int64_t, vision_heads) = 0;
  /// Text attention heads; default 0: text width / 64 (at least 1).
  TORCH_ARG(int64_t, text_heads) = 0;
  /// Source of every field that shapes cannot give; default ModelConfig{}.
  TORCH_ARG(ModelConfig, base);
};

/// Infers the config from canonical weights and validates it. Throws c10::Error naming the missing
/// tensor or the inconsistent shapes (e.g. a non-square position grid, projections that disagree on E).
ModelConfig infer_model_config(const TensorMap& canonical, const InferConfigOptions& options = {});

/// The fusion adapter weights were trained with (the "auto" rule): kLearned when they hold
/// backbone.balance1 and backbone.balance2, kAdd when they hold neither. Throws when only one is there.
FusionMode inferred_fusion(const TensorMap& canonical);

}  // namespace btadapter::io
