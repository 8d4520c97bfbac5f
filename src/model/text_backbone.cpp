#include "btadapter/model/text_backbone.h"

#include <torch/torch.h>

#include <optional>

namespace btadapter {

TextEmbeddingsImpl::TextEmbeddingsImpl(int64_t vocab_size, int64_t context_length, int64_t width) {
  token_embedding = register_module("token_embedding", torch::nn::Embedding(vocab_size, width));
  position_embedding = register_module("position_embedding", torch::nn::Embedding(context_length, width));
}

torch::Tensor TextEmbeddingsImpl::forward(const torch::Tensor& ids) {
  const int64_t len = ids.size(1), context = position_embedding->weight.size(0);
  TORCH_CHECK(len <= context, "text tower: expected at most ", context, " token positions, got ", len);
  const int64_t vocab = token_embedding->weight.size(0);
  TORCH_CHECK(ids.numel() == 0 || (ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < vocab),
              "text tower: expected token ids in [0, ", vocab, ")");
  return token_embedding->forward(ids) + position_embedding->weight.narrow(0, 0, len);
}

TextModelImpl::TextModelImpl(const TextConfig& c) {
  embeddings = register_module("embeddings", TextEmbeddings(c.vocab_size, c.context_length, c.width));
  // HF nests the blocks one level deeper, under `encoder.layers`.
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  layers = encoder->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.layers; ++i) {
    typed_layers_.push_back(ClipEncoderLayer(ClipEncoderLayerOptions(c.width, c.heads, c.mlp_dim).layer_norm_eps(c.layer_norm_eps)));
    layers->push_back(typed_layers_.back());
  }
  final_layer_norm = register_module("final_layer_norm", make_layer_norm(c.width, c.layer_norm_eps));
}

torch::Tensor TextModelImpl::forward(const torch::Tensor& ids, TextTrace* trace) {
  auto x = embeddings->forward(ids);
  for (auto& layer : typed_layers_) {
    x = layer->forward(x, /*causal=*/true);
    if (trace) trace->hidden.push_back(x);
  }
  x = final_layer_norm->forward(x);
  if (trace) trace->final = x;
  return x;
}

TextBackboneImpl::TextBackboneImpl(const TextConfig& config, int64_t embed_dim) : config_(config) {
  text_model = register_module("text_model", TextModel(config));
  text_projection =
      register_module("text_projection", torch::nn::Linear(torch::nn::LinearOptions(config.width, embed_dim).bias(false)));
  set_trainable(false);
}

void TextBackboneImpl::set_trainable(bool trainable) {
  for (auto& p : parameters()) p.set_requires_grad(trainable);
  trainable_ = trainable;
}

torch::Tensor TextBackboneImpl::pooled_positions(const torch::Tensor& ids) const {
  if (config_.pooling == TextPooling::kArgmaxId) return ids.argmax(-1);  // first maximum, like torch/HF
  // First eos: argmax over a bool->int tensor returns the first true; rows without eos use the last slot.
  auto is_eos = ids.eq(config_.eos_id);
  auto first = is_eos.to(torch::kInt).argmax(-1);
  return torch::where(is_eos.any(-1), first, torch::full_like(first, ids.size(1) - 1));
}

torch::Tensor TextBackboneImpl::forward(const torch::Tensor& ids, TextTrace* trace) {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) > 0 && ids.scalar_type() == torch::kLong,
              "text tower: expected ids [B, L] int64, got ", ids.sizes(), " ", ids.scalar_type());
  std::optional<torch::NoGradGuard> frozen;
  if (!trainable_) frozen.emplace();
  auto hidden = text_model->forward(ids, trace);
  auto index = pooled_positions(ids);
  if (trace) trace->pooled_index = index;
  auto pooled = hidden.gather(1, index.view({-1, 1, 1}).expand({ids.size(0), 1, hidden.size(2)})).squeeze(1);
  return text_projection->forward(pooled);
}

}  // namespace btadapter
