// Frame sources made of images: a folder of frame files (ActivityNet-style 000001.jpg ...) or one image.
#include "frame_source.h"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace btadapter::data::detail {

namespace {

namespace fs = std::filesystem;

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Frame order: numeric stems compare as numbers (1.jpg < 2.jpg < 10.jpg), everything else by name.
bool frame_name_less(const fs::path& a, const fs::path& b) {
  const std::string sa = a.stem().string(), sb = b.stem().string();
  if (all_digits(sa) && all_digits(sb) && sa.size() != sb.size()) {
    const auto strip = [](const std::string& s) { return s.substr(std::min(s.find_first_not_of('0'), s.size())); };
    const std::string na = strip(sa), nb = strip(sb);
    if (na.size() != nb.size()) return na.size() < nb.size();
    if (na != nb) return na < nb;
  }
  return a.filename().string() < b.filename().string();
}

class FrameFolderSource : public FrameSource {
 public:
  explicit FrameFolderSource(const std::string& path) : path_(path) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && is_image_file(entry.path().string())) files_.push_back(entry.path());
    }
    if (ec) throw VideoError(VideoErrorKind::kCorrupt, path, "cannot list the frame folder: " + ec.message());
    if (files_.empty()) throw VideoError(VideoErrorKind::kCorrupt, path, "frame folder holds no image files");
    std::sort(files_.begin(), files_.end(), frame_name_less);
  }

  int64_t reported_count() override { return static_cast<int64_t>(files_.size()); }
  int64_t count_by_decoding() override { return reported_count(); }

  SourceRead read(const std::vector<int64_t>& sorted_unique) override {
    SourceRead result;
    for (int64_t k : sorted_unique) result.frames.push_back(decode_nearest(k));
    return result;
  }

 private:
  // Like the official RawFrameDecode, an unreadable frame is replaced by the next readable one (then by
  // the previous ones); a folder with no readable frame at all is corrupt.
  cv::Mat decode_nearest(int64_t k) {
    const auto n = static_cast<int64_t>(files_.size());
    for (int64_t step = 0; step < n; ++step) {
      const int64_t candidates[2] = {k + step, k - step};
      for (int c = 0; c < (step == 0 ? 1 : 2); ++c) {
        const int64_t j = candidates[c];
        if (j < 0 || j >= n) continue;
        cv::Mat image = cv::imread(files_[j].string(), cv::IMREAD_COLOR);
        if (!image.empty()) return image;
      }
    }
    throw VideoError(VideoErrorKind::kCorrupt, path_, "no frame image in the folder can be decoded");
  }

  std::string path_;
  std::vector<fs::path> files_;
};

class ImageSource : public FrameSource {
 public:
  explicit ImageSource(const std::string& path) : image_(cv::imread(path, cv::IMREAD_COLOR)) {
    if (image_.empty()) throw VideoError(VideoErrorKind::kCorrupt, path, "cannot decode the image");
  }
  int64_t reported_count() override { return 1; }
  int64_t count_by_decoding() override { return 1; }
  SourceRead read(const std::vector<int64_t>& sorted_unique) override {
    SourceRead result;
    result.frames.assign(sorted_unique.size(), image_);
    return result;
  }

 private:
  cv::Mat image_;
};

}  // namespace

std::unique_ptr<FrameSource> open_frame_folder(const std::string& path) {
  return std::make_unique<FrameFolderSource>(path);
}

std::unique_ptr<FrameSource> open_image(const std::string& path) { return std::make_unique<ImageSource>(path); }

}  // namespace btadapter::data::detail
