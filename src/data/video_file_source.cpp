// Decoding frames of a video file with OpenCV's FFmpeg backend: forward grab() or verified seeks.
#include "frame_source.h"

#include <opencv2/videoio.hpp>

#include <cmath>
#include <filesystem>

namespace btadapter::data::detail {

namespace {

class VideoFileSource : public FrameSource {
 public:
  VideoFileSource(const std::string& path, const VideoReaderOptions& options)
      : path_(path), options_(options) {
    std::error_code ec;
    if (std::filesystem::file_size(path, ec) == 0 && !ec) {
      throw VideoError(VideoErrorKind::kCorrupt, path, "empty file");
    }
    reopen();
    const double count = capture_.get(cv::CAP_PROP_FRAME_COUNT);
    reported_count_ = std::isfinite(count) && count > 0 ? static_cast<int64_t>(count) : 0;
  }

  int64_t reported_count() override { return reported_count_; }

  int64_t count_by_decoding() override {
    reopen();
    while (capture_.grab()) ++position_;
    grabs_ += position_;
    return position_;
  }

  SourceRead read(const std::vector<int64_t>& sorted_unique) override {
    SourceRead result;
    result.frames.reserve(sorted_unique.size());
    for (int64_t k : sorted_unique) {
      if (!position_at(k)) {
        // The stream ended before frame k. position_at left position_ at the real end when it decoded
        // forward from a known position; otherwise count from scratch.
        result.true_count = exact_end_ ? position_ : count_by_decoding();
        result.frames.clear();
        return result;
      }
      cv::Mat frame;
      if (!capture_.retrieve(frame) || frame.empty()) {
        throw VideoError(VideoErrorKind::kCorrupt, path_, "frame " + std::to_string(k) + " could not be converted");
      }
      result.frames.push_back(std::move(frame));
    }
    return result;
  }

  int64_t seeks() const override { return seeks_; }
  int64_t grabs() const override { return grabs_; }

 private:
  void reopen() {
    capture_.release();
    if (!capture_.open(path_, cv::CAP_FFMPEG) || !capture_.isOpened()) {
      throw VideoError(VideoErrorKind::kCorrupt, path_, "FFmpeg cannot open it as a video");
    }
    position_ = 0;
  }

  // Leaves the decoder holding frame k (grabbed, not yet retrieved). False when the stream ends first;
  // exact_end_ then says whether position_ is the true frame count.
  bool position_at(int64_t k) {
    exact_end_ = false;
    const int64_t from = k >= position_ ? position_ : 0;  // where forward decoding would start (reopened if back)
    if (k - from >= options_.seek_min_gap() && seekable_ && seek_to(k)) return true;
    if (k < position_) reopen();
    return grab_forward_to(k);
  }

  bool grab_forward_to(int64_t k) {
    while (position_ <= k) {
      if (!capture_.grab()) {
        exact_end_ = true;
        return false;
      }
      ++position_;
      ++grabs_;
    }
    return true;
  }

  // OpenCV seeks to the keyframe before k and decodes forward, deriving frame numbers from timestamps.
  // Accept the result only when the decoder reports that it now holds frame k; otherwise stop seeking
  // in this file and fall back to decoding forward from the start.
  bool seek_to(int64_t k) {
    ++seeks_;
    if (capture_.set(cv::CAP_PROP_POS_FRAMES, static_cast<double>(k)) && capture_.grab() &&
        static_cast<int64_t>(capture_.get(cv::CAP_PROP_POS_FRAMES)) == k + 1) {
      position_ = k + 1;
      ++grabs_;
      return true;
    }
    seekable_ = false;
    reopen();
    return false;
  }

  std::string path_;
  VideoReaderOptions options_;
  cv::VideoCapture capture_;
  int64_t reported_count_ = 0;
  int64_t position_ = 0;  // index of the frame the next grab() returns
  bool seekable_ = true;
  bool exact_end_ = false;
  int64_t seeks_ = 0;
  int64_t grabs_ = 0;
};

}  // namespace

std::unique_ptr<FrameSource> open_video_file(const std::string& path, const VideoReaderOptions& options) {
  return std::make_unique<VideoFileSource>(path, options);
}

}  // namespace btadapter::data::detail
