#include "btadapter/data/video_reader.h"

#include "frame_source.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace btadapter::data {

namespace fs = std::filesystem;

VideoError::VideoError(VideoErrorKind kind, const std::string& path, const std::string& reason)
    : std::runtime_error(std::string(enum_name(kind)) + " video '" + path + "': " + reason),
      kind_(kind), path_(path), reason_(reason) {}

bool is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* known : {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}) {
    if (ext == known) return true;
  }
  return false;
}

struct VideoReader::Impl {
  std::string path;
  VideoReaderOptions options;
  std::unique_ptr<detail::FrameSource> source;
  int64_t num_frames = -1;  // -1: not known yet
  bool count_corrected = false;

  int64_t frame_count() {
    if (num_frames < 0) {
      const int64_t reported = options.trust_frame_count() ? source->reported_count() : 0;
      num_frames = reported > 0 ? reported : source->count_by_decoding();
      if (num_frames <= 0) throw VideoError(VideoErrorKind::kCorrupt, path, "no decodable frame");
    }
    return num_frames;
  }

  // Decodes `indices`; on a too-high count, records the true one and returns an undefined tensor.
  torch::Tensor try_read(const std::vector<int64_t>& indices) {
    const int64_t n = frame_count();
    for (int64_t k : indices) {
      TORCH_CHECK(k >= 0 && k < n, "VideoReader: expected frame indices in [0, ", n, ") for '", path, "', got ", k);
    }
    std::vector<int64_t> unique = indices;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    detail::SourceRead got = source->read(unique);
    if (got.true_count) {
      if (*got.true_count <= 0) throw VideoError(VideoErrorKind::kCorrupt, path, "no decodable frame");
      num_frames = *got.true_count;
      count_corrected = true;
      return {};
    }
    return to_rgb_tensor(indices, unique, got.frames);
  }

  torch::Tensor to_rgb_tensor(const std::vector<int64_t>& indices, const std::vector<int64_t>& unique,
                              const std::vector<cv::Mat>& frames) const {
    const cv::Size size = frames.front().size();
    auto out = torch::empty({static_cast<int64_t>(indices.size()), size.height, size.width, 3}, torch::kUInt8);
    for (size_t i = 0; i < indices.size(); ++i) {
      const auto u = std::lower_bound(unique.begin(), unique.end(), indices[i]) - unique.begin();
      const cv::Mat& bgr = frames[static_cast<size_t>(u)];
      if (bgr.size() != size || bgr.type() != CV_8UC3) {
        throw VideoError(VideoErrorKind::kCorrupt, path, "frame size changes within the video");
      }
      cv::Mat rgb(size, CV_8UC3, out[static_cast<int64_t>(i)].data_ptr<uint8_t>());
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    }
    return out;
  }
};

VideoReader::VideoReader(const std::string& path, VideoReaderOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->options = options;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw VideoError(VideoErrorKind::kMissing, path, "no such file or folder");
  if (fs::is_directory(status)) {
    impl_->source = detail::open_frame_folder(path);
  } else if (is_image_file(path)) {
    impl_->source = detail::open_image(path);
  } else {
    impl_->source = detail::open_video_file(path, options);
  }
}

VideoReader::~VideoReader() = default;

const std::string& VideoReader::path() const { return impl_->path; }

int64_t VideoReader::num_frames() { return impl_->frame_count(); }

torch::Tensor VideoReader::read(const std::vector<int64_t>& indices) {
  TORCH_CHECK(!indices.empty(), "VideoReader::read: expected at least one frame index for '", impl_->path, "'");
  torch::Tensor frames = impl_->try_read(indices);
  if (!frames.defined()) {
    throw VideoError(VideoErrorKind::kCorrupt, impl_->path,
                     "a requested frame lies past the real end (" + std::to_string(impl_->num_frames) + " frames)");
  }
  return frames;
}

DecodedFrames VideoReader::read_sampled(const FrameChooser& choose) {
  DecodedFrames result;
  // At most two rounds: the second uses the true count found by the first.
  for (int round = 0; round < 2 && !result.frames.defined(); ++round) {
    result.num_frames = impl_->frame_count();
    result.indices = choose(result.num_frames);
    TORCH_CHECK(!result.indices.empty(), "VideoReader: the frame chooser returned no index for '", impl_->path, "'");
    result.frames = impl_->try_read(result.indices);
  }
  if (!result.frames.defined()) {
    throw VideoError(VideoErrorKind::kCorrupt, impl_->path, "frame count keeps changing while decoding");
  }
  result.count_corrected = impl_->count_corrected;
  return result;
}

int64_t VideoReader::seeks() const { return impl_->source->seeks(); }
int64_t VideoReader::grabs() const { return impl_->source->grabs(); }

}  // namespace btadapter::data
