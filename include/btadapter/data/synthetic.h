#pragma once
/// A small synthetic video-text dataset made of real H.264 videos: coloured shapes that move in a
/// stated direction, captioned "a red circle moves from left to right". Videos come in time-reversed
/// pairs (the same frames in opposite order, with the opposite caption), so only a model that sees
/// temporal order can tell the two apart. bt_make_synthetic is the CLI.
///
/// Layout written under `out_dir` (the formats the real datasets use):
///   train.csv                     WebVid-2M CSV (format "webvid", root out_dir/videos)
///   videos/<page_dir>/<id>.mp4    training videos
///   test.json                     MSR-VTT dict {"videoN.mp4": [caption]} (format "msrvtt-json", root out_dir/test_videos)
///   test_videos/videoN.mp4        test videos
///   direction.json                the reversed test pairs: {"annotations": "test.json", "pairs":
///                                 [{"forward": "video0.mp4", "reversed": "video1.mp4", "forward_caption": ..,
///                                 "reversed_caption": ..}, ...]}
///
/// Everything is a function of the options: the same seed writes the same captions and pixels
/// (libx264 is deterministic for fixed settings). Shapes span about a third of the frame so they
/// survive a resize to 32 px.
///
/// Thread safety: writes files only under out_dir; do not run two writers on one folder.

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace btadapter::data {

struct SyntheticOptions {
  explicit SyntheticOptions(std::string out_dir) : out_dir_(std::move(out_dir)) {}
  /// Folder to write into (created if needed).
  TORCH_ARG(std::string, out_dir);
  /// Training videos (rounded up to an even number: reversed pairs); default 64.
  TORCH_ARG(int64_t, train_videos) = 64;
  /// Test videos (rounded up to even); default 16.
  TORCH_ARG(int64_t, test_videos) = 16;
  /// Frames per video; default 16.
  TORCH_ARG(int64_t, frames) = 16;
  /// Width and height in pixels (even); default 64.
  TORCH_ARG(int64_t, size) = 64;
  /// Frames per second stored in the files; default 8.
  TORCH_ARG(double, fps) = 8.0;
  /// Seed of every choice (colour, shape, direction, position, background); default 0.
  TORCH_ARG(uint64_t, seed) = 0;
};

/// What was written.
struct SyntheticDataset {
  std::string train_csv, train_root;  ///< for read_annotations(train_csv, "webvid", root train_root)
  std::string test_json, test_root;   ///< for read_annotations(test_json, "msrvtt-json", root test_root)
  std::string direction_json;         ///< the reversed-pair sidecar
  int64_t train_videos = 0, test_videos = 0, test_pairs = 0;
};

/// One clip of the dataset's kind, uint8 [frames,size,size,3] RGB, and its caption; the reversed clip
/// is frames.flip(0) with reversed_caption. Exposed for tests.
struct SyntheticClip {
  torch::Tensor frames;
  std::string caption;
  std::string reversed_caption;
};
SyntheticClip make_synthetic_clip(int64_t frames, int64_t size, uint64_t seed);

/// Writes the dataset; progress goes to `progress` (videos written, total) when given.
SyntheticDataset make_synthetic_dataset(const SyntheticOptions& options,
                                        const std::function<void(int64_t, int64_t)>& progress = nullptr);

}  // namespace btadapter::data
