#include "btadapter/data/video_writer.h"

#include <c10/util/Exception.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <unistd.h>

namespace btadapter::data {

namespace fs = std::filesystem;

namespace {

// "<dir>/.<name>.tmp<pid><ext>": same folder (so rename is atomic), same extension (OpenCV picks the
// container from it).
fs::path temp_path_for(const fs::path& path) {
  return path.parent_path() /
         ("." + path.stem().string() + ".tmp" + std::to_string(::getpid()) + path.extension().string());
}

cv::Mat bgr_view_of(const torch::Tensor& rgb, cv::Mat& scratch) {
  const cv::Mat view(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3,
                     const_cast<uint8_t*>(rgb.data_ptr<uint8_t>()));
  cv::cvtColor(view, scratch, cv::COLOR_RGB2BGR);
  return scratch;
}

void check_rgb(const torch::Tensor& t, int64_t dims, const std::string& path) {
  TORCH_CHECK(t.dim() == dims && t.size(-1) == 3 && t.scalar_type() == torch::kUInt8,
              "writing '", path, "': expected uint8 RGB frames with ", dims, " dims and 3 channels last, got ",
              t.scalar_type(), " ", t.sizes());
}

}  // namespace

void write_video(const std::string& path, const torch::Tensor& frames, const VideoWriterOptions& options) {
  check_rgb(frames, 4, path);
  TORCH_CHECK(frames.size(0) >= 1, "writing '", path, "': expected at least one frame");
  const std::string& cc = options.fourcc();
  TORCH_CHECK(cc.size() == 4, "writing '", path, "': expected a 4-character fourcc, got '", cc, "'");
  const auto contiguous = frames.contiguous();
  const cv::Size size(static_cast<int>(frames.size(2)), static_cast<int>(frames.size(1)));
  const fs::path tmp = temp_path_for(path);
  {
    cv::VideoWriter writer(tmp.string(), cv::CAP_FFMPEG, cv::VideoWriter::fourcc(cc[0], cc[1], cc[2], cc[3]),
                           options.fps(), size);
    TORCH_CHECK(writer.isOpened(), "writing '", path, "': OpenCV's FFmpeg backend cannot encode fourcc '", cc,
                "' at ", size.width, "x", size.height);
    cv::Mat scratch;
    for (int64_t t = 0; t < frames.size(0); ++t) writer.write(bgr_view_of(contiguous[t], scratch));
  }
  cv::VideoCapture check(tmp.string(), cv::CAP_FFMPEG);
  const auto written = static_cast<int64_t>(check.get(cv::CAP_PROP_FRAME_COUNT));
  check.release();
  if (written != frames.size(0)) {
    fs::remove(tmp);
    TORCH_CHECK(false, "writing '", path, "': expected ", frames.size(0), " frames to read back, got ", written);
  }
  fs::rename(tmp, path);
}

void write_image(const std::string& path, const torch::Tensor& image) {
  check_rgb(image, 3, path);
  cv::Mat scratch;
  const fs::path tmp = temp_path_for(path);
  TORCH_CHECK(cv::imwrite(tmp.string(), bgr_view_of(image.contiguous(), scratch)), "writing '", path,
              "': OpenCV cannot encode this image format");
  fs::rename(tmp, path);
}

}  // namespace btadapter::data
