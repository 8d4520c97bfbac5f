#include "btadapter/train/text_feature_cache.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

namespace btadapter::train {
namespace {

int64_t bytes_of(const torch::Tensor& t) { return t.numel() * static_cast<int64_t>(t.element_size()); }

}  // namespace

TextFeatureCache::TextFeatureCache(TextFeatureCacheOptions options) : options_(options) {
  TORCH_CHECK(options_.max_bytes() >= 0 && options_.max_entries() >= 0,
              "TextFeatureCache: bounds must be >= 0, got max_bytes ", options_.max_bytes(), ", max_entries ",
              options_.max_entries());
}

std::optional<torch::Tensor> TextFeatureCache::get(const std::string& caption) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(caption);
  if (it == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void TextFeatureCache::put(const std::string& caption, const torch::Tensor& feature) {
  const int64_t bytes = bytes_of(feature);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(caption);
  if (it != index_.end()) {
    stats_.bytes -= bytes_of(it->second->second);
    lru_.erase(it->second);
    index_.erase(it);
  }
  if (bytes > options_.max_bytes()) return;
  lru_.emplace_front(caption, feature.detach().clone());
  index_[caption] = lru_.begin();
  stats_.bytes += bytes;
  evict_to_fit();
  stats_.entries = static_cast<int64_t>(lru_.size());
}

void TextFeatureCache::evict_to_fit() {
  auto too_many = [&] { return options_.max_entries() > 0 && static_cast<int64_t>(lru_.size()) > options_.max_entries(); };
  while (!lru_.empty() && (stats_.bytes > options_.max_bytes() || too_many())) {
    stats_.bytes -= bytes_of(lru_.back().second);
    index_.erase(lru_.back().first);
    lru_.pop_back();
    ++stats_.evictions;
  }
}

torch::Tensor TextFeatureCache::get_or_compute(
    const std::vector<std::string>& captions,
    const std::function<torch::Tensor(const std::vector<int64_t>& rows)>& encode) {
  TORCH_CHECK(!captions.empty(), "TextFeatureCache: expected at least one caption");
  std::vector<torch::Tensor> rows(captions.size());
  std::vector<int64_t> missing;                         // first occurrence of each distinct missing caption
  std::unordered_map<std::string, int64_t> missing_at;  // caption -> position in `missing`
  for (size_t i = 0; i < captions.size(); ++i) {
    if (missing_at.count(captions[i])) continue;
    if (auto hit = get(captions[i])) {
      rows[i] = *hit;
    } else {
      missing_at[captions[i]] = static_cast<int64_t>(missing.size());
      missing.push_back(static_cast<int64_t>(i));
    }
  }
  if (!missing.empty()) {
    torch::Tensor computed = encode(missing);
    TORCH_CHECK(computed.dim() >= 1 && computed.size(0) == static_cast<int64_t>(missing.size()),
                "TextFeatureCache: encode returned ", computed.sizes(), " for ", missing.size(), " captions");
    for (size_t k = 0; k < missing.size(); ++k) put(captions[missing[k]], computed[k]);
    for (size_t i = 0; i < captions.size(); ++i) {
      auto it = missing_at.find(captions[i]);
      if (it != missing_at.end()) rows[i] = computed[it->second];
    }
  }
  return torch::stack(rows);
}

void TextFeatureCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  lru_.clear();
  index_.clear();
  stats_.bytes = 0;
  stats_.entries = 0;
}

TextFeatureCacheStats TextFeatureCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace btadapter::train
