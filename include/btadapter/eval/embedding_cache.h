#pragma once
/// Video and text embeddings of one evaluation, saved for reuse: re-running an evaluation with the same
/// model, annotations and settings reads them instead of decoding every video again (what
/// bt_eval_retrieval / bt_eval_recognition do with --embeddings).
///
/// A cache is valid for exactly one `key`: string entries naming everything the embeddings depend on
/// (model and annotation SHA-256s, model config, dtype, frames, resize, ...; the runners build it). A
/// cache whose key differs in any entry is stale, and find_matching_cache says which entry differs.
///
/// File (safetensors): tensors "video_embeddings" [N_video, E] and "text_embeddings" [N_text, E], float32;
/// metadata "format" = "btadapter.embedding_cache", "format_version" = "1", "videos" (JSON list of the
/// N_video row names), "skipped_videos" (JSON list of videos that could not be read, which have no row),
/// and every key entry as "key.<name>". Written atomically.
///
/// Thread safety: free functions without shared state.

#include "btadapter/io/safetensors.h"

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace btadapter::eval {

struct EmbeddingCache {
  io::Metadata key;                         ///< what the embeddings depend on
  std::vector<std::string> videos;          ///< row names of video_embeddings
  std::vector<std::string> skipped_videos;  ///< videos that could not be read (no row)
  torch::Tensor video_embeddings;           ///< [N_video, E] float32
  torch::Tensor text_embeddings;            ///< [N_text, E] float32
};

/// Writes a cache (shapes checked: one row per video name, equal widths).
void write_embedding_cache(const std::string& path, const EmbeddingCache& cache);

/// Reads a cache written by write_embedding_cache; errors name the file and what is wrong.
EmbeddingCache read_embedding_cache(const std::string& path);

/// The cache at `path` when it exists and its key equals `key`; nullopt otherwise, with the reason
/// ("no file", "key 'model_sha256' differs: ...") in `why_not` when given.
std::optional<EmbeddingCache> find_matching_cache(const std::string& path, const io::Metadata& key,
                                                  std::string* why_not = nullptr);

}  // namespace btadapter::eval
