#include "btadapter/data/transforms.h"

#include <c10/util/Exception.h>
#include <opencv2/imgproc.hpp>

#include <cmath>

namespace btadapter::data {

namespace {

void check_frames(const torch::Tensor& frames, const char* what) {
  TORCH_CHECK(frames.dim() == 4 && frames.size(3) == 3 && frames.scalar_type() == torch::kUInt8, what,
              ": expected uint8 frames [T,H,W,3], got ", frames.scalar_type(), " ", frames.sizes());
}

cv::Mat mat_view(const torch::Tensor& frame) {
  return cv::Mat(static_cast<int>(frame.size(0)), static_cast<int>(frame.size(1)), CV_8UC3,
                 frame.data_ptr<uint8_t>(), static_cast<size_t>(frame.stride(0)));
}

}  // namespace

std::pair<int64_t, int64_t> short_side_size(int64_t height, int64_t width, int64_t short_side) {
  TORCH_CHECK(height > 0 && width > 0 && short_side > 0, "short_side_size: expected positive sizes, got ", height,
              "x", width, " -> ", short_side);
  const double factor = static_cast<double>(short_side) / static_cast<double>(std::min(height, width));
  return {static_cast<int64_t>(static_cast<double>(height) * factor + 0.5),
          static_cast<int64_t>(static_cast<double>(width) * factor + 0.5)};
}

torch::Tensor resize_frames(const torch::Tensor& frames, int64_t height, int64_t width) {
  check_frames(frames, "resize_frames");
  TORCH_CHECK(height > 0 && width > 0, "resize_frames: expected a positive size, got ", height, "x", width);
  if (frames.size(1) == height && frames.size(2) == width) return frames;
  const auto input = frames.contiguous();
  auto out = torch::empty({frames.size(0), height, width, 3}, torch::kUInt8);
  for (int64_t t = 0; t < frames.size(0); ++t) {
    cv::Mat dst = mat_view(out[t]);
    cv::resize(mat_view(input[t]), dst, dst.size(), 0, 0, cv::INTER_LINEAR);
  }
  return out;
}

torch::Tensor resize_short_side(const torch::Tensor& frames, int64_t short_side) {
  check_frames(frames, "resize_short_side");
  const auto [h, w] = short_side_size(frames.size(1), frames.size(2), short_side);
  return resize_frames(frames, h, w);
}

CropBox center_crop_box(int64_t height, int64_t width, int64_t size) {
  TORCH_CHECK(size > 0 && size <= height && size <= width, "center crop: expected a crop size in [1, ",
              std::min(height, width), "] for a ", height, "x", width, " frame, got ", size);
  return {(width - size) / 2, (height - size) / 2, size, size};
}

torch::Tensor crop_frames(const torch::Tensor& frames, const CropBox& box) {
  check_frames(frames, "crop_frames");
  TORCH_CHECK(box.x >= 0 && box.y >= 0 && box.width > 0 && box.height > 0 && box.x + box.width <= frames.size(2) &&
                  box.y + box.height <= frames.size(1),
              "crop_frames: expected a box inside the ", frames.size(1), "x", frames.size(2), " frame, got x=", box.x,
              " y=", box.y, " w=", box.width, " h=", box.height);
  return frames.slice(1, box.y, box.y + box.height).slice(2, box.x, box.x + box.width).contiguous();
}

CropBox random_resized_crop_box(int64_t height, int64_t width, DataRng& rng, const RandomResizedCropOptions& o) {
  TORCH_CHECK(0 < o.min_area() && o.min_area() <= o.max_area() && o.max_area() <= 1.0,
              "random resized crop: expected 0 < min_area <= max_area <= 1, got ", o.min_area(), ", ", o.max_area());
  TORCH_CHECK(0 < o.min_ratio() && o.min_ratio() <= o.max_ratio(),
              "random resized crop: expected 0 < min_ratio <= max_ratio, got ", o.min_ratio(), ", ", o.max_ratio());
  const double area = static_cast<double>(height * width);
  // Drawn in the same order as mmaction2: every aspect ratio first, then every area.
  std::vector<double> ratios, areas;
  for (int64_t i = 0; i < o.attempts(); ++i) {
    ratios.push_back(std::exp(rng.uniform(std::log(o.min_ratio()), std::log(o.max_ratio()))));
  }
  for (int64_t i = 0; i < o.attempts(); ++i) areas.push_back(rng.uniform(o.min_area(), o.max_area()) * area);
  for (int64_t i = 0; i < o.attempts(); ++i) {
    const auto w = static_cast<int64_t>(round_half_even(std::sqrt(areas[i] * ratios[i])));
    const auto h = static_cast<int64_t>(round_half_even(std::sqrt(areas[i] / ratios[i])));
    if (w > 0 && h > 0 && h <= height && w <= width) {
      const int64_t x = rng.randint(0, width - w);
      const int64_t y = rng.randint(0, height - h);
      return {x, y, w, h};
    }
  }
  return center_crop_box(height, width, std::min(height, width));
}

int64_t ClipTransformOptions::resolved_short_side() const {
  if (short_side_ > 0) return short_side_;
  return train_ ? static_cast<int64_t>(std::lround(static_cast<double>(size_) * 256.0 / 224.0)) : size_;
}

torch::Tensor transform_clip(const torch::Tensor& frames, const ClipTransformOptions& options, DataRng* rng) {
  check_frames(frames, "transform_clip");
  const int64_t size = options.size();
  const int64_t short_side = options.resolved_short_side();
  TORCH_CHECK(size > 0 && short_side >= size, "transform_clip: expected 0 < size <= short_side, got size ", size,
              " and short side ", short_side);
  const auto [h, w] = short_side_size(frames.size(1), frames.size(2), short_side);
  CropBox box = center_crop_box(h, w, size);
  if (options.train()) {
    TORCH_CHECK(rng != nullptr, "transform_clip: the training pipeline needs a random generator");
    box = random_resized_crop_box(h, w, *rng, options.crop());
  }
  // Per frame with OpenCV only (no torch ops: this runs on loader threads, which must not start torch's
  // intra-op pools): resize, crop (a view), resize the crop when training, split into channel planes.
  const auto input = frames.contiguous();
  auto out = torch::empty({frames.size(0), 3, size, size}, torch::kUInt8);
  const cv::Rect roi(static_cast<int>(box.x), static_cast<int>(box.y), static_cast<int>(box.width),
                     static_cast<int>(box.height));
  const cv::Size final_size(static_cast<int>(size), static_cast<int>(size));
  cv::Mat resized, rescaled;
  for (int64_t t = 0; t < frames.size(0); ++t) {
    cv::resize(mat_view(input[t]), resized, cv::Size(static_cast<int>(w), static_cast<int>(h)), 0, 0, cv::INTER_LINEAR);
    cv::Mat cropped = resized(roi);
    if (options.train()) {
      cv::resize(cropped, rescaled, final_size, 0, 0, cv::INTER_LINEAR);
      cropped = rescaled;
    }
    uint8_t* planes = out[t].data_ptr<uint8_t>();
    std::vector<cv::Mat> channels;
    for (int c = 0; c < 3; ++c) {
      channels.emplace_back(static_cast<int>(size), static_cast<int>(size), CV_8UC1, planes + c * size * size);
    }
    cv::split(cropped, channels);
  }
  return out;
}

torch::Tensor normalize_clip(const torch::Tensor& video) {
  TORCH_CHECK(video.dim() >= 3 && video.size(-3) == 3, "normalize_clip: expected [..., 3, H, W], got ", video.sizes());
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(video.device());
  const auto mean = torch::tensor({kClipMean[0], kClipMean[1], kClipMean[2]}, opts.dtype(torch::kDouble))
                        .to(opts).view({3, 1, 1});
  const auto std = torch::tensor({kClipStd[0], kClipStd[1], kClipStd[2]}, opts.dtype(torch::kDouble))
                       .to(opts).view({3, 1, 1});
  return (video.to(opts) - mean) / std;
}

}  // namespace btadapter::data
