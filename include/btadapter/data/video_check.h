#pragma once
/// Checking a dataset before training: open every video an annotation file names and decode the
/// frames training would sample (bt_check_videos is the CLI).
///
///   Annotations a = read_annotations(file, "webvid", AnnotationOptions().root(dir).skip_bad_rows(true));
///   VideoCheckReport r = check_videos(a, VideoCheckOptions().frames(8).threads(4));
///   std::cout << video_check_summary_json(r);  // {"total":..,"ok":..,"missing":..,"corrupt":..,"too_short":..,"bad_rows":..}
///
/// Each distinct video is checked once (MSR-VTT train files name a video once per caption). Every
/// checked video lands in exactly one class, so total = ok + missing + corrupt + too_short:
///   missing    the path does not exist
///   corrupt    it cannot be opened or no frame decodes
///   too_short  fewer decodable frames than `frames` (still usable: frames repeat)
/// bad_rows counts annotation rows that could not be read (they name no usable video and are not
/// opened); they are not part of total.
///
/// Thread safety: check_videos runs `threads` worker threads internally and re-throws any error other
/// than a bad video on the calling thread.

#include "btadapter/data/annotations.h"
#include "btadapter/data/video_reader.h"

#include <torch/arg.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace btadapter::data {

struct VideoCheckOptions {
  /// Frames sampled per video, as in training; default 8.
  TORCH_ARG(int64_t, frames) = 8;
  /// Decoding threads; default 2.
  TORCH_ARG(int64_t, threads) = 2;
  /// Decoding strategy; default VideoReaderOptions().
  TORCH_ARG(VideoReaderOptions, reader) = {};
  /// Seed of the training-style frame choice; default 0.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Called now and then with (videos checked, videos to check), from the calling thread.
  TORCH_ARG(std::function<void(int64_t, int64_t)>, progress) = nullptr;
};

/// One video (or row) that is not ok.
struct VideoProblem {
  std::string status;  ///< "missing", "corrupt", "too_short" or "bad_row"
  std::string video;   ///< path ("" for a bad row)
  int64_t row = 0;     ///< first annotation row naming it (1-based line or entry)
  int64_t frames = 0;  ///< decodable frames (too_short), else 0
  std::string reason;  ///< what went wrong
};

struct VideoCheckReport {
  int64_t total = 0, ok = 0, missing = 0, corrupt = 0, too_short = 0, bad_rows = 0;
  std::vector<VideoProblem> problems;  ///< bad rows first, then videos in annotation order
};

VideoCheckReport check_videos(const Annotations& annotations, const VideoCheckOptions& options = {});

/// The one-line JSON summary {"total":..,"ok":..,"missing":..,"corrupt":..,"too_short":..,"bad_rows":..}.
std::string video_check_summary_json(const VideoCheckReport& report);
/// Writes one JSON object per problem ({"status", "video", "row", "frames", "reason"}) atomically.
void write_video_problems(const std::string& path, const VideoCheckReport& report);

}  // namespace btadapter::data
