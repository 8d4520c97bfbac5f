#pragma once
// Shared by the api/ and eval-runner tests: the tiny parity models of tests/fixtures (real BT-Adapter and CLIP
// weights at 32 x 32 pixels), CLIP's vocabulary, and small generated videos.

#include "btadapter/btadapter.h"
#include "btadapter/data/video_writer.h"
#include "support/test_support.h"

#include <torch/torch.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace btadapter::testing {

/// tiny_a: BT-Adapter depth 2 with learned fusion on a 6-layer, 64-wide ViT (patch 8, 32 px) and a 3-layer,
/// 16-wide text tower; heads do not follow width / 64, so they are given.
inline std::string tiny_official() { return fixture_path("parity/tiny_a/official_checkpoint.pth").string(); }
inline std::string tiny_clip() { return fixture_path("parity/tiny_a/weights_openai.safetensors").string(); }
inline std::string tiny_hf_clip() { return fixture_path("parity/tiny_a/weights_hf.safetensors").string(); }
inline std::string tiny_adapter() { return fixture_path("parity/tiny_a/adapter.safetensors").string(); }
inline LoadOptions tiny_options() { return LoadOptions().vocab(clip_vocab()).vision_heads(4).text_heads(2); }

/// uint8 [frames, height, width, 3] RGB: a colour field (different per seed) with a bright bar that
/// sweeps left to right, so frames differ and order matters.
inline torch::Tensor test_frames(int64_t seed, int64_t frames = 8, int64_t height = 40, int64_t width = 48) {
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(seed) + 1);
  const auto base = torch::randint(30, 200, {1, 1, 1, 3}, gen, torch::kLong);
  auto video = base.expand({frames, height, width, 3}).clone();
  for (int64_t t = 0; t < frames; ++t) {
    const int64_t x = (width - 8) * t / std::max<int64_t>(frames - 1, 1);
    video.index_put_({t, torch::indexing::Slice(), torch::indexing::Slice(x, x + 8)}, 250);
  }
  return video.to(torch::kByte);
}

/// Writes test_frames(seed) as an H.264 .mp4.
inline void write_test_video(const std::string& path, int64_t seed, int64_t frames = 8) {
  data::write_video(path, test_frames(seed, frames));
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

/// Cosine similarity of two 1-d tensors (float64).
inline double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.to(torch::kDouble).flatten(), y = b.to(torch::kDouble).flatten();
  return (x.dot(y) / (x.norm() * y.norm())).item<double>();
}

}  // namespace btadapter::testing
