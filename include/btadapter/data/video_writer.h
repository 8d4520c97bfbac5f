#pragma once
/// Writing H.264 .mp4 files (for synthetic data, tests and benchmarks).
///
/// Uses OpenCV's VideoWriter with the FFmpeg backend and the 'avc1' fourcc, which Debian's OpenCV 4.6
/// encodes with libx264 (yuv420p, so width and height should be even). The file is written under a
/// temporary name and renamed into place; the written file is reopened and its frame count checked.
///
/// Thread safety: free functions; writing different files from several threads is fine.

#include <torch/arg.h>
#include <torch/types.h>

#include <string>

namespace btadapter::data {

struct VideoWriterOptions {
  /// Frames per second stored in the file; default 8.
  TORCH_ARG(double, fps) = 8.0;
  /// Four-character codec code for OpenCV; default "avc1" (H.264).
  TORCH_ARG(std::string, fourcc) = "avc1";
};

/// Writes `frames` (uint8 [T,H,W,3] RGB, T >= 1) as a video file. Throws c10::Error naming the path
/// when the encoder cannot be opened or the result does not read back with T frames.
void write_video(const std::string& path, const torch::Tensor& frames, const VideoWriterOptions& options = {});

/// Writes one RGB uint8 [H,W,3] image (format from the extension, e.g. .jpg, .png).
void write_image(const std::string& path, const torch::Tensor& image);

}  // namespace btadapter::data
