#include "btadapter/data/conversation_frames.h"

#include "btadapter/data/frame_sampling.h"
#include "btadapter/data/video_reader.h"

#include <torch/torch.h>

#include <array>

namespace btadapter::data {
namespace {

constexpr std::array<double, 3> kProcessorMean = {0.48145466, 0.4578275, 0.40821073};
constexpr std::array<double, 3> kProcessorStd = {0.26862954, 0.26130258, 0.27577711};

namespace F = torch::nn::functional;

// uint8 [T,3,H,W] -> uint8 [T,3,h,w] through float interpolation, rounded and clamped like an 8-bit image.
torch::Tensor interpolate_uint8(const torch::Tensor& x, int64_t h, int64_t w, bool bicubic) {
  auto options = F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w});
  if (bicubic) {
    options.mode(torch::kBicubic).align_corners(false).antialias(true);
  } else {
    options.mode(torch::kNearest);
  }
  auto y = F::interpolate(x.to(torch::kFloat), options);
  // Nearest yields the stored integers; the official cast truncates, which changes nothing then.
  return (bicubic ? y.round().clamp(0, 255) : y).to(torch::kUInt8);
}

}  // namespace

std::vector<int64_t> conversation_frame_indices(int64_t total, int64_t n) {
  TORCH_CHECK(n >= 1, "conversation frames: expected at least 1 frame to sample, got ", n);
  std::vector<int64_t> indices;
  // The same segment bounds as UniformSample's training draw; get_seq_frames takes their midpoint.
  for (const auto& [start, end] : uniform_sample_train_bounds(total, std::min(total, n))) {
    indices.push_back((start + end) / 2);
  }
  return indices;
}

torch::Tensor preprocess_conversation_frames(const torch::Tensor& frames, const ConversationFrameOptions& options) {
  TORCH_CHECK(frames.dim() == 4 && frames.size(3) == 3 && frames.scalar_type() == torch::kUInt8,
              "conversation frames: expected uint8 [T, H, W, 3] RGB, got ", frames.scalar_type(), " ", frames.sizes());
  const int64_t s = options.image_size(), square = options.square_size();
  TORCH_CHECK(s >= 1 && square >= 1, "conversation frames: expected positive sizes, got image_size ", s,
              " and square_size ", square);
  auto x = frames.permute({0, 3, 1, 2});  // [T,3,H,W]
  if (options.square_resize() && (x.size(2) != square || x.size(3) != square)) {
    x = interpolate_uint8(x, square, square, /*bicubic=*/false);
  }
  const int64_t h = x.size(2), w = x.size(3), short_side = std::min(h, w), long_side = std::max(h, w);
  if (short_side != s) {
    const auto resized_long = static_cast<int64_t>(static_cast<double>(s) * static_cast<double>(long_side) /
                                                   static_cast<double>(short_side));
    x = h <= w ? interpolate_uint8(x, s, resized_long, true) : interpolate_uint8(x, resized_long, s, true);
  }
  const int64_t top = (x.size(2) - s) / 2, left = (x.size(3) - s) / 2;
  auto crop = x.narrow(2, top, s).narrow(3, left, s).to(torch::kDouble) / 255.0;
  auto mean = torch::tensor(std::vector<double>(kProcessorMean.begin(), kProcessorMean.end()), torch::kDouble);
  auto stdev = torch::tensor(std::vector<double>(kProcessorStd.begin(), kProcessorStd.end()), torch::kDouble);
  return ((crop - mean.view({1, 3, 1, 1})) / stdev.view({1, 3, 1, 1})).to(torch::kFloat).contiguous();
}

ConversationVideo read_conversation_video(const std::string& path, const ConversationFrameOptions& options) {
  VideoReader reader(path);
  const DecodedFrames decoded =
      reader.read_sampled([&](int64_t total) { return conversation_frame_indices(total, options.num_frames()); });
  ConversationVideo out;
  out.frames = preprocess_conversation_frames(decoded.frames, options);
  out.indices = decoded.indices;
  out.total_frames = decoded.num_frames;
  return out;
}

}  // namespace btadapter::data
