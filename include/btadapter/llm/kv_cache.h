#pragma once
/// Preallocated key/value buffers for cached LLaMA decoding: per layer a key and a value buffer
/// [B, kv_heads, capacity, head_dim] in the model's dtype and device, of which the first `length()`
/// positions are filled. Keys are stored after the rotary embedding (as transformers caches them).
///
/// Usage:
///   llm::KVCache cache(model->config(), /*batch=*/1, /*capacity=*/prompt_len + max_new, model->options());
///   auto logits = model->forward(prompt_embeds, &cache).logits;     // prefill: fills 0..N-1
///   logits = model->forward(model->embed(next_id), &cache).logits;  // one step: position N
///   cache.reset();                                                   // a new conversation, same buffers
///
/// The model appends through append() and commits the new length with advance() after its last layer,
/// so a forward that throws leaves the cache length unchanged.
///
/// Thread safety: none; one cache per running sequence.

#include "btadapter/config/llama_config.h"

#include <torch/types.h>

#include <vector>

namespace btadapter::llm {

class KVCache {
 public:
  /// Buffers for `config.num_hidden_layers` layers. `capacity` (> 0) is the most positions the cache
  /// holds; it may not exceed config.max_position_embeddings (throws naming both).
  KVCache(const LlamaConfig& config, int64_t batch, int64_t capacity, const torch::TensorOptions& options);

  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  int64_t batch() const { return batch_; }
  int64_t num_layers() const { return static_cast<int64_t>(keys_.size()); }

  /// The filled part of one layer's keys / values: views [B, kv_heads, length, head_dim].
  torch::Tensor key(int64_t layer) const;
  torch::Tensor value(int64_t layer) const;

  /// Throws when `new_tokens` more positions do not fit: the message names the current length, the
  /// new tokens and the capacity.
  void check_room(int64_t new_tokens) const;

  /// Writes `k`, `v` [B, kv_heads, n, head_dim] at positions length()..length()+n-1 of `layer` and
  /// returns views of that layer's keys and values up to length()+n (the length itself is unchanged).
  std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v);

  /// Commits `n` positions written by append() in every layer.
  void advance(int64_t n);

  /// Length back to 0 (the buffers are kept).
  void reset() { length_ = 0; }

 private:
  int64_t batch_ = 0, capacity_ = 0, length_ = 0;
  std::vector<torch::Tensor> keys_, values_;
};

}  // namespace btadapter::llm
