#pragma once
// Test helpers of the data tests: frames that encode their own index (so a decoded frame tells which
// frame it is, through lossy H.264), and encoding through the ffmpeg binary for special streams.

#include "btadapter/data/video_writer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

namespace btadapter::testing {

constexpr int64_t kCodeBits = 8;

/// uint8 [n,size,size,3] frames; frame k shows kCodeBits horizontal bars, white for the set bits of k.
inline torch::Tensor coded_frames(int64_t n, int64_t size = 64) {
  auto frames = torch::zeros({n, size, size, 3}, torch::kUInt8);
  const int64_t bar = size / kCodeBits;
  for (int64_t k = 0; k < n; ++k) {
    for (int64_t b = 0; b < kCodeBits; ++b) {
      if ((k >> b) & 1) frames[k].slice(0, b * bar, (b + 1) * bar).fill_(255);
    }
  }
  return frames;
}

/// The index a decoded coded frame (uint8 [H,W,3]) shows: each bar's centre row averaged, thresholded.
inline int64_t decode_code(const torch::Tensor& frame) {
  const int64_t bar = frame.size(0) / kCodeBits;
  int64_t k = 0;
  for (int64_t b = 0; b < kCodeBits; ++b) {
    const double mean = frame[b * bar + bar / 2].to(torch::kDouble).mean().item<double>();
    if (mean > 128) k |= int64_t{1} << b;
  }
  return k;
}

inline std::vector<int64_t> decode_codes(const torch::Tensor& frames) {
  std::vector<int64_t> codes;
  for (int64_t i = 0; i < frames.size(0); ++i) codes.push_back(decode_code(frames[i]));
  return codes;
}

/// Encodes RGB frames with the ffmpeg binary: `ffmpeg -f rawvideo ... -i - <args> <path>`.
inline void ffmpeg_encode(const torch::Tensor& frames, const std::string& path, const std::string& args,
                          int fps = 25) {
  const std::string cmd = "ffmpeg -v error -y -f rawvideo -pix_fmt rgb24 -s " + std::to_string(frames.size(2)) + "x" +
                          std::to_string(frames.size(1)) + " -r " + std::to_string(fps) + " -i - " + args + " '" +
                          path + "'";
  FILE* pipe = popen(cmd.c_str(), "w");
  ASSERT_NE(pipe, nullptr) << cmd;
  const auto data = frames.contiguous();
  ASSERT_EQ(std::fwrite(data.data_ptr<uint8_t>(), 1, static_cast<size_t>(data.numel()), pipe),
            static_cast<size_t>(data.numel()));
  ASSERT_EQ(pclose(pipe), 0) << cmd;
}

}  // namespace btadapter::testing
