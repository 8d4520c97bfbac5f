#pragma once
/// A bounded LRU cache of frozen text features, keyed by caption string. The text tower is frozen, so a
/// caption's feature never changes during training; with several epochs (or repeated captions) the
/// cache skips its forward pass. One cache belongs to one (text weights, tokenizer settings) pair:
/// the key is the raw caption only.
///
/// Entries are detached copies on the device they were given; the byte bound counts tensor bytes
/// (numel * element size). The least recently used entries are evicted first; an entry bigger than the
/// whole bound is not stored.
///
/// Example:
///   TextFeatureCache cache(TextFeatureCacheOptions().max_bytes(512 << 20));
///   auto text = cache.get_or_compute(captions, [&](const std::vector<int64_t>& rows) {
///     return model->encode_text(token_ids.index_select(0, to_tensor(rows)));   // [rows.size(), E]
///   });
///
/// Thread safety: all methods lock an internal mutex; `encode` runs outside the lock.

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace btadapter::train {

struct TextFeatureCacheOptions {
  /// Bound on stored tensor bytes; default 256 MiB.
  TORCH_ARG(int64_t, max_bytes) = int64_t{256} << 20;
  /// Bound on the number of entries, 0 = none; default 0.
  TORCH_ARG(int64_t, max_entries) = 0;
};

struct TextFeatureCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;
  int64_t entries = 0;
  int64_t bytes = 0;
};

class TextFeatureCache {
 public:
  explicit TextFeatureCache(TextFeatureCacheOptions options = {});

  /// The cached feature (and marks it most recently used), or nullopt. Counts a hit or a miss.
  std::optional<torch::Tensor> get(const std::string& caption);

  /// Stores a detached copy of `feature`, replacing an existing entry, evicting as needed.
  void put(const std::string& caption, const torch::Tensor& feature);

  /// Features for a batch, [B, ...] in caption order. Misses are computed in one call of
  /// `encode(rows)`, rows = indices into `captions` (each distinct missing caption once, first
  /// occurrence), which must return [rows.size(), ...]; they are then stored.
  torch::Tensor get_or_compute(const std::vector<std::string>& captions,
                               const std::function<torch::Tensor(const std::vector<int64_t>& rows)>& encode);

  void clear();
  TextFeatureCacheStats stats() const;

 private:
  using Entry = std::pair<std::string, torch::Tensor>;
  void evict_to_fit();

  TextFeatureCacheOptions options_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  TextFeatureCacheStats stats_;
};

}  // namespace btadapter::train
