#pragma once
// Private helper of the evaluation runners (retrieval_eval, recognition_eval): the video and text
// embeddings of one evaluation, read from the embedding cache when it matches, else computed (and the
// cache written).

#include "btadapter/api/video_encoding.h"
#include "btadapter/btadapter.h"
#include "btadapter/eval/results_json.h"
#include "btadapter/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace btadapter::eval::detail {

/// What an evaluation's embeddings depend on, shared by the runners.
struct EmbeddingInputs {
  std::string kind;                        ///< "retrieval" / "recognition"
  std::string annotations, format, root;   ///< the annotation file and how it was read
  std::vector<std::string> videos;         ///< distinct resolved video paths, in row order
  std::vector<std::string> texts;          ///< texts to encode, in row order
  VideoOptions video;                      ///< sampling and batching
  bool skip_bad_videos = false;
  std::string cache;                       ///< cache file, "" for none
  io::Metadata extra_key;                  ///< runner-specific key entries (class names, templates, ...)
  api::ProgressCallback progress;
  std::function<void(const std::string&)> log;
};

struct Embeddings {
  torch::Tensor videos;               ///< [N_video, E]; zero rows where !ok
  std::vector<bool> ok;               ///< false for skipped videos
  std::vector<std::string> skipped;   ///< skipped video paths, in row order
  torch::Tensor texts;                ///< [N_text, E]
  bool from_cache = false;
  double encode_seconds = 0;
  double decode_wait_seconds = 0;     ///< of encode_seconds: waiting for decoded video batches
  std::string model_sha256;           ///< "" for in-memory models
  std::string annotations_sha256;
};

/// Reads the cache when it matches, else encodes (and writes the cache when one is named).
Embeddings embed_for_eval(const Model& model, const EmbeddingInputs& inputs);

/// The resolved settings shared by the runners' JSON records: model description, dtype, device, frames,
/// short side, truncation, skip policy, cache use.
std::string eval_settings_json(const Model& model, const EmbeddingInputs& inputs, bool from_cache,
                               const std::string& extra_json_object = "{}");

/// The results record as both runners fill it: dataset (the preset's name, else the annotation format),
/// model, skipped videos, and the settings with `extra` (runner-specific entries) plus the run's
/// annotation hash and timings. `Result` is RetrievalEvalResult or RecognitionEvalResult.
template <typename Result>
EvalResults results_record(const Model& model, const std::string& dataset, const EmbeddingInputs& inputs,
                           const Result& result, nlohmann::json extra) {
  EvalResults out;
  out.dataset = dataset.empty() ? inputs.format : dataset;
  out.model_path = model.path();
  out.model_sha256 = result.model_sha256;
  out.videos_skipped = static_cast<int64_t>(result.skipped_videos.size());
  out.skipped_videos = result.skipped_videos;
  extra["annotations_sha256"] = result.annotations_sha256;
  extra["encode_seconds"] = result.encode_seconds;
  extra["decode_wait_seconds"] = result.decode_wait_seconds;
  extra["total_seconds"] = result.total_seconds;
  out.config_json = eval_settings_json(model, inputs, result.from_cache, extra.dump());
  return out;
}

/// "Xm Ys" style seconds for logs.
std::string format_seconds(double seconds);

}  // namespace btadapter::eval::detail
