#include "btadapter/llm/kv_cache.h"

#include <torch/torch.h>

namespace btadapter::llm {

KVCache::KVCache(const LlamaConfig& config, int64_t batch, int64_t capacity, const torch::TensorOptions& options)
    : batch_(batch), capacity_(capacity) {
  TORCH_CHECK(batch > 0, "KVCache: expected batch > 0, got ", batch);
  TORCH_CHECK(capacity > 0, "KVCache: expected capacity > 0, got ", capacity);
  TORCH_CHECK(capacity <= config.max_position_embeddings, "KVCache: a capacity of ", capacity,
              " positions exceeds the model's context of ", config.max_position_embeddings,
              " (max_position_embeddings)");
  const auto buffer_options = options.requires_grad(false);
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    keys_.push_back(torch::empty({batch, config.num_key_value_heads, capacity, config.head_dim()}, buffer_options));
    values_.push_back(torch::empty_like(keys_.back()));
  }
}

torch::Tensor KVCache::key(int64_t layer) const {
  TORCH_CHECK(layer >= 0 && layer < num_layers(), "KVCache: expected a layer in [0, ", num_layers(), "), got ", layer);
  return keys_[layer].narrow(2, 0, length_);
}

torch::Tensor KVCache::value(int64_t layer) const {
  TORCH_CHECK(layer >= 0 && layer < num_layers(), "KVCache: expected a layer in [0, ", num_layers(), "), got ", layer);
  return values_[layer].narrow(2, 0, length_);
}

void KVCache::check_room(int64_t new_tokens) const {
  TORCH_CHECK(length_ + new_tokens <= capacity_, "KVCache: ", length_, " cached + ", new_tokens,
              " new tokens = ", length_ + new_tokens, " positions exceed the cache capacity of ", capacity_);
}

std::pair<torch::Tensor, torch::Tensor> KVCache::append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v) {
  TORCH_CHECK(layer >= 0 && layer < num_layers(), "KVCache: expected a layer in [0, ", num_layers(), "), got ", layer);
  const auto& buffer = keys_[layer];
  TORCH_CHECK(k.dim() == 4 && k.size(0) == batch_ && k.size(1) == buffer.size(1) && k.size(3) == buffer.size(3) &&
                  v.sizes() == k.sizes(),
              "KVCache: expected keys and values [", batch_, ", ", buffer.size(1), ", n, ", buffer.size(3), "], got ",
              k.sizes(), " and ", v.sizes());
  const int64_t n = k.size(2);
  check_room(n);
  keys_[layer].narrow(2, length_, n).copy_(k);
  values_[layer].narrow(2, length_, n).copy_(v);
  return {keys_[layer].narrow(2, 0, length_ + n), values_[layer].narrow(2, 0, length_ + n)};
}

void KVCache::advance(int64_t n) {
  check_room(n);
  length_ += n;
}

}  // namespace btadapter::llm
