#pragma once
/// One video in, one model-ready clip out: open, sample T frames (UniformSample), decode only those,
/// transform (train or eval pipeline).
///
///   Clip c = load_clip("v.mp4", ClipOptions(8, 224).train(true), /*seed=*/42);
///   c.frames;   // uint8 [8,3,224,224] RGB; normalize_clip(c.frames) gives the model input
///   c.indices;  // the sampled frame indices, e.g. for logs
///
/// Thread safety: pure function of (path, options, seed); call it from any number of threads.

#include "btadapter/data/frame_sampling.h"
#include "btadapter/data/transforms.h"
#include "btadapter/data/video_reader.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace btadapter::data {

struct ClipOptions {
  ClipOptions(int64_t num_frames, int64_t size) : num_frames_(num_frames), transform_(size) {}
  /// Frames per clip T (the official configs use 8 for pretraining, 12, 16 or 64 for evaluation).
  TORCH_ARG(int64_t, num_frames);
  /// Spatial pipeline; its train() flag also selects random (train) or fixed (test) frame indices.
  TORCH_ARG(ClipTransformOptions, transform);
  /// Decoding strategy; default VideoReaderOptions().
  TORCH_ARG(VideoReaderOptions, reader) = {};
  /// Which frames; default FrameSampling::kUniform (the official UniformSample).
  TORCH_ARG(FrameSampling, sampling) = FrameSampling::kUniform;

 public:
  bool train() const { return transform_.train(); }
  /// Shorthand for setting transform().train().
  ClipOptions& train(bool train) {
    transform_.train(train);
    return *this;
  }
};

struct Clip {
  torch::Tensor frames;          ///< uint8 [T,3,size,size] RGB
  std::vector<int64_t> indices;  ///< the T sampled frame indices
  int64_t video_frames = 0;      ///< the video's frame count (less than T: a short video, frames repeat)
  bool count_corrected = false;  ///< the container's frame count was wrong (counted by decoding)
};

/// The one rule for a short video, shared by check_videos (status "too_short") and the data loader
/// (LoaderStats::too_short, one log line per video): fewer frames than the clip samples. Such a clip is
/// still used, its frames repeating as in the official UniformSample, under every BadVideoPolicy (kSkip
/// included: leaving short clips out would change the test set). Returns "" when the video is long
/// enough, else e.g. "3 decodable frames, fewer than 8".
std::string too_short_reason(int64_t video_frames, int64_t clip_frames);

/// Loads one clip. `seed` drives the training-time frame choice and crop box (ignored in evaluation).
/// Throws VideoError for a missing or undecodable video.
Clip load_clip(const std::string& path, const ClipOptions& options, uint64_t seed = 0);

}  // namespace btadapter::data
