#pragma once
/// Encoding many video files with a Model: the threaded data loader decodes clips (official evaluation
/// pipeline, see btadapter::VideoOptions) while the calling thread runs the model, with a choice of what
/// an unreadable video does and a progress callback. Model::encode_videos(paths) is this with
/// BadVideoPolicy::kError; the evaluation runners use kSkip when asked to skip and report.
///
///   api::VideoEncodingPolicy policy;
///   policy.skip_bad_videos = true;
///   auto r = api::encode_video_files(*model, paths, VideoOptions().num_frames(12), policy);
///   r.embeddings;   // [paths.size(), E]; rows of skipped videos are zero and r.ok[i] is false
///
/// Thread safety: as Model::encode_videos (several calls may run at once).

#include "btadapter/btadapter.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace btadapter::api {

/// Called after each batch with (videos done, total).
using ProgressCallback = std::function<void(int64_t done, int64_t total)>;

struct VideoEncodingPolicy {
  /// Leave unreadable videos out (listed in `skipped`) instead of throwing; default false.
  bool skip_bad_videos = false;
  /// Progress callback; default none.
  ProgressCallback progress = nullptr;
  /// Receives one line per unreadable video when skipping; default: the loader's (stderr).
  std::function<void(const std::string&)> log = nullptr;
};

struct VideoEncoding {
  torch::Tensor embeddings;           ///< [N, E] float32, L2-normalised rows; zero rows for skipped videos
  std::vector<bool> ok;               ///< N flags: false for skipped videos
  std::vector<std::string> skipped;   ///< paths of the skipped videos, in input order
  std::vector<std::string> reasons;   ///< why each was skipped (the VideoError message)
  double decode_wait_seconds = 0;     ///< time spent waiting for decoded batches (the loader's workers decode)
};

/// Encodes `paths` (files, frame folders or images) in order. Throws data::VideoError for the first
/// unreadable video unless policy.skip_bad_videos.
VideoEncoding encode_video_files(const Model& model, const std::vector<std::string>& paths,
                                 const VideoOptions& options, const VideoEncodingPolicy& policy = {});

}  // namespace btadapter::api
