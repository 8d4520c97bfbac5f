#pragma once
// Internal: the three kinds of frame source behind VideoReader (video file, frame folder, image).

#include "btadapter/data/video_reader.h"

#include <opencv2/core.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace btadapter::data::detail {

/// What a source read: either all frames, or the proof that the stream ends before a wanted frame.
struct SourceRead {
  std::vector<cv::Mat> frames;          ///< BGR 8UC3, one per wanted index (when complete)
  std::optional<int64_t> true_count;    ///< set when a wanted frame lies past the real end
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  /// The count the container claims; <= 0 when unknown.
  virtual int64_t reported_count() = 0;
  /// The count found by decoding every frame.
  virtual int64_t count_by_decoding() = 0;
  /// Decodes the frames at `sorted_unique` (ascending, no repeats).
  virtual SourceRead read(const std::vector<int64_t>& sorted_unique) = 0;
  virtual int64_t seeks() const { return 0; }
  virtual int64_t grabs() const { return 0; }
};

std::unique_ptr<FrameSource> open_video_file(const std::string& path, const VideoReaderOptions& options);
std::unique_ptr<FrameSource> open_frame_folder(const std::string& path);
std::unique_ptr<FrameSource> open_image(const std::string& path);

}  // namespace btadapter::data::detail
