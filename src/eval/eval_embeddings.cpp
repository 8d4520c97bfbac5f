#include "eval_embeddings.h"

#include "btadapter/eval/embedding_cache.h"
#include "btadapter/io/sha256.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace btadapter::eval::detail {
namespace {

using nlohmann::json;

int64_t resolved_short_side(const Model& model, const VideoOptions& video) {
  return video.short_side() > 0 ? video.short_side() : model.config().vision.image_size;
}

io::Metadata cache_key(const Model& model, const EmbeddingInputs& in, const Embeddings& e) {
  io::Metadata key = in.extra_key;
  key["kind"] = in.kind;
  key["model_sha256"] = e.model_sha256;
  if (!model.options().adapter().empty()) key["adapter_sha256"] = io::sha256_file(model.options().adapter());
  key["model_config"] = model_config_to_json(model.config());
  if (std::filesystem::is_regular_file(model.vocab_path())) key["vocab_sha256"] = io::sha256_file(model.vocab_path());
  key["dtype"] = dtype_name(model.dtype());
  key["annotations_sha256"] = e.annotations_sha256;
  key["format"] = in.format;
  key["root"] = in.root;
  key["num_frames"] = std::to_string(in.video.num_frames());
  key["short_side"] = std::to_string(resolved_short_side(model, in.video));
  key["skip_bad_videos"] = in.skip_bad_videos ? "true" : "false";
  return key;
}

/// Puts the cached rows back in the order of `videos`; false when the cached list is another one.
bool restore_rows(const EmbeddingCache& cache, const std::vector<std::string>& videos, Embeddings& e,
                  std::string& why_not) {
  std::map<std::string, int64_t> row;
  for (size_t i = 0; i < cache.videos.size(); ++i) row[cache.videos[i]] = static_cast<int64_t>(i);
  const std::set<std::string> skipped(cache.skipped_videos.begin(), cache.skipped_videos.end());
  if (row.size() + skipped.size() != videos.size()) {
    why_not = "the cached video list differs from the annotations'";
    return false;
  }
  e.videos = torch::zeros({static_cast<int64_t>(videos.size()), cache.video_embeddings.size(1)});
  e.ok.assign(videos.size(), true);
  for (size_t i = 0; i < videos.size(); ++i) {
    auto it = row.find(videos[i]);
    if (it != row.end()) {
      e.videos[static_cast<int64_t>(i)] = cache.video_embeddings[it->second];
    } else if (skipped.count(videos[i])) {
      e.ok[i] = false;
      e.skipped.push_back(videos[i]);
    } else {
      why_not = "video '" + videos[i] + "' is not in the cache";
      return false;
    }
  }
  e.texts = cache.text_embeddings;
  return true;
}

void write_cache(const std::string& path, const io::Metadata& key, const std::vector<std::string>& videos,
                 const Embeddings& e) {
  EmbeddingCache cache;
  cache.key = key;
  std::vector<int64_t> rows;
  for (size_t i = 0; i < videos.size(); ++i) {
    if (e.ok[i]) {
      cache.videos.push_back(videos[i]);
      rows.push_back(static_cast<int64_t>(i));
    }
  }
  cache.skipped_videos = e.skipped;
  cache.video_embeddings = e.videos.index_select(0, torch::tensor(rows, torch::kLong));
  cache.text_embeddings = e.texts;
  write_embedding_cache(path, cache);
}

}  // namespace

Embeddings embed_for_eval(const Model& model, const EmbeddingInputs& in) {
  Embeddings e;
  e.model_sha256 = model.path().empty() ? "" : io::sha256_file(model.path());
  e.annotations_sha256 = io::sha256_file(in.annotations);
  io::Metadata key;
  if (!in.cache.empty()) {
    TORCH_CHECK(!model.path().empty(), "an embedding cache needs a model loaded from a file (its SHA-256 is the key)");
    key = cache_key(model, in, e);
    std::string why_not;
    if (auto cache = find_matching_cache(in.cache, key, &why_not)) {
      Embeddings cached = e;
      if (restore_rows(*cache, in.videos, cached, why_not)) {
        if (cached.texts.size(0) == static_cast<int64_t>(in.texts.size())) {
          cached.from_cache = true;
          if (in.log) in.log("read embeddings from cache '" + in.cache + "'");
          return cached;
        }
        why_not = "the cached text count differs";
      }
    }
    if (in.log) in.log("embedding cache not used (" + why_not + "); computing embeddings");
  }
  const auto start = std::chrono::steady_clock::now();
  api::VideoEncodingPolicy policy;
  policy.skip_bad_videos = in.skip_bad_videos;
  policy.progress = in.progress;
  policy.log = in.log;
  api::VideoEncoding encoded = api::encode_video_files(model, in.videos, in.video, policy);
  e.videos = encoded.embeddings;
  e.ok = encoded.ok;
  e.skipped = encoded.skipped;
  e.decode_wait_seconds = encoded.decode_wait_seconds;
  e.texts = model.encode_texts(in.texts);
  e.encode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!in.cache.empty()) {
    write_cache(in.cache, key, in.videos, e);
    if (in.log) in.log("wrote embedding cache '" + in.cache + "'");
  }
  return e;
}

std::string eval_settings_json(const Model& model, const EmbeddingInputs& in, bool from_cache,
                               const std::string& extra_json_object) {
  json settings{{"model", model.path()},
                {"model_description", model.description()},
                {"adapter", model.options().adapter()},
                {"vocab", model.vocab_path()},
                {"dtype", dtype_name(model.dtype())},
                {"device", model.device().str()},
                {"model_config", json::parse(model_config_to_json(model.config()))},
                {"annotations", in.annotations},
                {"format", in.format},
                {"root", in.root},
                {"num_frames", in.video.num_frames()},
                {"short_side", resolved_short_side(model, in.video)},
                {"crop", model.config().vision.image_size},
                {"text_truncate", model.config().tokenizer.truncate},
                {"batch_size", in.video.batch_size()},
                {"num_workers", in.video.num_workers()},
                {"skip_bad_videos", in.skip_bad_videos},
                {"embeddings_cache", in.cache},
                {"from_cache", from_cache}};
  settings.update(json::parse(extra_json_object));
  return settings.dump();
}

std::string format_seconds(double seconds) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  if (seconds < 60) {
    out << seconds << " s";
  } else {
    out << static_cast<int64_t>(seconds) / 60 << " min " << seconds - 60 * (static_cast<int64_t>(seconds) / 60) << " s";
  }
  return out.str();
}

}  // namespace btadapter::eval::detail
