#pragma once
/// The CLIP text tower (`text_backbone.*`, Hugging Face names as the official recogniser has them):
///
///   text_model.embeddings.{token_embedding,position_embedding}.weight
///   text_model.encoder.layers.{i}.*        (ClipEncoderLayer, causal)
///   text_model.final_layer_norm.{weight,bias}
///   text_projection.weight                 [E, Wt], no bias
///
/// Forward on ids [B, L] int64, L <= context_length (shorter contexts use the first L positions, as the
/// official 32/64-token configs do): token + position embedding, causal layers, final LayerNorm, one token
/// per caption pooled per TextConfig::pooling, then text_projection.
/// - kArgmaxId: the position of the largest id, first occurrence on ties (OpenAI and HF with eos id 2).
///   EOT 49407 is the largest id, so this is the EOT; if truncation removed the EOT it is the largest
///   BPE id left, exactly as the official pipeline behaves.
/// - kFirstEos: the first position holding `eos_id`; a caption without it pools its last position.
/// No attention (padding) mask is applied, like the official code: causality alone keeps padding from
/// reaching the pooled token.
///
/// The tower starts frozen (requires_grad false, run under NoGradGuard). Thread safety: forward passes do
/// not mutate the module.

#include "btadapter/config/model_config.h"
#include "btadapter/model/encoder_layer.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>

#include <vector>

namespace btadapter {

/// Intermediates of a text forward pass, filled when passed in.
struct TextTrace {
  std::vector<torch::Tensor> hidden;  ///< output of every layer [B, L, Wt]
  torch::Tensor final;                ///< final_layer_norm output, all positions [B, L, Wt]
  torch::Tensor pooled_index;         ///< [B] int64 position pooled per caption
};

/// `text_model.embeddings`.
class TextEmbeddingsImpl : public torch::nn::Module {
 public:
  TextEmbeddingsImpl(int64_t vocab_size, int64_t context_length, int64_t width);
  /// ids [B, L] -> token + position embedding [B, L, Wt].
  torch::Tensor forward(const torch::Tensor& ids);

  torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
};
TORCH_MODULE(TextEmbeddings);

/// `text_model`: embeddings, `encoder.layers`, final_layer_norm.
class TextModelImpl : public torch::nn::Module {
 public:
  explicit TextModelImpl(const TextConfig& config);
  /// ids [B, L] -> final_layer_norm output [B, L, Wt].
  torch::Tensor forward(const torch::Tensor& ids, TextTrace* trace = nullptr);

  TextEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};  ///< registered as encoder.layers
  torch::nn::LayerNorm final_layer_norm{nullptr};

 private:
  std::vector<ClipEncoderLayer> typed_layers_;
};
TORCH_MODULE(TextModel);

class TextBackboneImpl : public torch::nn::Module {
 public:
  TextBackboneImpl(const TextConfig& config, int64_t embed_dim);

  /// ids [B, L] int64 -> text embeddings [B, E].
  torch::Tensor forward(const torch::Tensor& ids, TextTrace* trace = nullptr);

  /// The position pooled for each caption, [B] int64 (per TextConfig::pooling).
  torch::Tensor pooled_positions(const torch::Tensor& ids) const;

  void set_trainable(bool trainable);
  bool trainable() const { return trainable_; }
  const TextConfig& config() const { return config_; }

  TextModel text_model{nullptr};
  torch::nn::Linear text_projection{nullptr};

 private:
  TextConfig config_;
  bool trainable_ = false;
};
TORCH_MODULE(TextBackbone);

}  // namespace btadapter
