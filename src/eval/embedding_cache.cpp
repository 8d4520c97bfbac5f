#include "btadapter/eval/embedding_cache.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>

namespace btadapter::eval {
namespace {

constexpr const char* kCacheFormat = "btadapter.embedding_cache";
constexpr const char* kVersion = "1";
constexpr const char* kKeyPrefix = "key.";

const std::string& require(const io::Metadata& metadata, const std::string& key, const std::string& path) {
  auto it = metadata.find(key);
  TORCH_CHECK(it != metadata.end(), "embedding cache '", path, "': metadata key '", key, "' is missing");
  return it->second;
}

std::vector<std::string> string_list(const std::string& text, const std::string& key, const std::string& path) {
  try {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    TORCH_CHECK(false, "embedding cache '", path, "': expected metadata '", key, "' as a JSON list of strings (",
                e.what(), ")");
  }
}

void check_embeddings(const torch::Tensor& t, const char* name, const std::string& path) {
  TORCH_CHECK(t.defined() && t.dim() == 2 && t.scalar_type() == torch::kFloat, "embedding cache '", path,
              "': expected ", name, " as a float32 [rows, E] tensor, got ",
              t.defined() ? t.sizes() : torch::IntArrayRef{});
}

}  // namespace

void write_embedding_cache(const std::string& path, const EmbeddingCache& cache) {
  check_embeddings(cache.video_embeddings, "video_embeddings", path);
  check_embeddings(cache.text_embeddings, "text_embeddings", path);
  TORCH_CHECK(cache.video_embeddings.size(0) == static_cast<int64_t>(cache.videos.size()), "embedding cache '", path,
              "': expected one video_embeddings row per video name, got ", cache.video_embeddings.size(0), " rows for ",
              cache.videos.size(), " names");
  TORCH_CHECK(cache.video_embeddings.size(1) == cache.text_embeddings.size(1), "embedding cache '", path,
              "': expected video and text embeddings of one width, got ", cache.video_embeddings.size(1), " and ",
              cache.text_embeddings.size(1));
  io::Metadata metadata{{"format", kCacheFormat},
                        {"format_version", kVersion},
                        {"videos", nlohmann::json(cache.videos).dump()},
                        {"skipped_videos", nlohmann::json(cache.skipped_videos).dump()}};
  for (const auto& [name, value] : cache.key) metadata[kKeyPrefix + name] = value;
  io::write_safetensors(path,
                        {{"video_embeddings", cache.video_embeddings}, {"text_embeddings", cache.text_embeddings}},
                        metadata);
}

EmbeddingCache read_embedding_cache(const std::string& path) {
  io::Metadata metadata;
  io::TensorMap tensors = io::read_safetensors(path, &metadata);
  TORCH_CHECK(require(metadata, "format", path) == kCacheFormat, "embedding cache '", path, "': expected format '", kCacheFormat,
              "', got '", metadata.at("format"), "'");
  TORCH_CHECK(require(metadata, "format_version", path) == kVersion, "embedding cache '", path,
              "': expected format_version ", kVersion, ", got '", metadata.at("format_version"), "'");
  EmbeddingCache cache;
  cache.videos = string_list(require(metadata, "videos", path), "videos", path);
  cache.skipped_videos = string_list(require(metadata, "skipped_videos", path), "skipped_videos", path);
  for (const auto& [name, value] : metadata) {
    if (name.rfind(kKeyPrefix, 0) == 0) cache.key[name.substr(std::strlen(kKeyPrefix))] = value;
  }
  for (const char* name : {"video_embeddings", "text_embeddings"}) {
    TORCH_CHECK(tensors.count(name), "embedding cache '", path, "': tensor '", name, "' is missing");
  }
  cache.video_embeddings = tensors.at("video_embeddings");
  cache.text_embeddings = tensors.at("text_embeddings");
  check_embeddings(cache.video_embeddings, "video_embeddings", path);
  check_embeddings(cache.text_embeddings, "text_embeddings", path);
  TORCH_CHECK(cache.video_embeddings.size(0) == static_cast<int64_t>(cache.videos.size()), "embedding cache '", path,
              "': ", cache.video_embeddings.size(0), " video rows but ", cache.videos.size(), " video names");
  return cache;
}

std::optional<EmbeddingCache> find_matching_cache(const std::string& path, const io::Metadata& key,
                                                  std::string* why_not) {
  auto reject = [&](const std::string& reason) -> std::optional<EmbeddingCache> {
    if (why_not) *why_not = reason;
    return std::nullopt;
  };
  if (!std::filesystem::exists(path)) return reject("no file '" + path + "'");
  EmbeddingCache cache = read_embedding_cache(path);
  for (const auto& [name, value] : key) {
    auto it = cache.key.find(name);
    if (it == cache.key.end()) return reject("key '" + name + "' is missing from '" + path + "'");
    if (it->second != value) return reject("key '" + name + "' differs: cached '" + it->second + "', now '" + value + "'");
  }
  for (const auto& [name, value] : cache.key) {
    if (!key.count(name)) return reject("cached key '" + name + "' is no longer used");
  }
  return cache;
}

}  // namespace btadapter::eval
