#pragma once
/// Frames of one video for the conversation model, as the official `eval/model_utils.py` `load_video`
/// prepares them (fixture contract: tests/fixtures/conversation/README.md section 8, quirk 18).
///
/// Sampling (`get_seq_frames(total, min(total, num_frm))`):
///   seg = (total - 1) / n;   frame_i = (round(seg * i) + round(seg * (i + 1))) // 2
/// with numpy's round-half-to-even; short videos repeat frames and the last frame is never picked
/// (total 11, n 4 -> 1 3 6 9; total 7, n 100 -> 0 1 2 3 3 4 5).
///
/// Preprocessing of the decoded uint8 RGB frames [T,H,W,3]:
///   1. official square resize (default on): when the frame is not 224 x 224, F.interpolate(size=(224,
///      224)) in its default nearest mode on float, cast back to uint8. This distorts the aspect ratio;
///      `square_resize(false)` skips it (not what the released model was evaluated with).
///   2. CLIPImageProcessor: resize the shortest edge to `image_size` (long edge int(S * long / short)),
///      bicubic, skipped when the short edge already is S (PIL returns a copy then: always the case after
///      step 1 with S = 224); centre crop S x S (top = (h - S) // 2, left = (w - S) // 2); x / 255;
///      (x - mean) / std with CLIP's mean (0.48145466, 0.4578275, 0.40821073) and std (0.26862954,
///      0.26130258, 0.27577711).
///   The bicubic step is LibTorch's antialiased bicubic (a = -0.75), rounded to uint8, not PIL's
///   (a = -0.5, fixed point): equal when no resize is needed, close otherwise.
/// -> float32 [T,3,S,S], the VideoTower input.
///
/// Thread safety: pure functions; read_conversation_video opens its own reader.

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace btadapter::data {

/// Official `get_seq_frames(total, min(total, n))`. Throws unless total >= 1 and n >= 1.
std::vector<int64_t> conversation_frame_indices(int64_t total, int64_t n);

struct ConversationFrameOptions {
  /// Frames to sample (num_frm); default 64, what the official eval scripts pass (--num-frames 64).
  TORCH_ARG(int64_t, num_frames) = 64;
  /// The CLIP processor's size S (the tower's image size); default 224 (ViT-L/14).
  TORCH_ARG(int64_t, image_size) = 224;
  /// The official nearest resize to square_size x square_size first; default true (official).
  TORCH_ARG(bool, square_resize) = true;
  /// Side of that resize; default 224 (hard-coded in the official load_video).
  TORCH_ARG(int64_t, square_size) = 224;
};

/// Steps 1-2 above: uint8 [T,H,W,3] RGB -> float32 [T,3,S,S].
torch::Tensor preprocess_conversation_frames(const torch::Tensor& frames, const ConversationFrameOptions& options = {});

/// One video, read and preprocessed.
struct ConversationVideo {
  torch::Tensor frames;          ///< float32 [T,3,S,S]
  std::vector<int64_t> indices;  ///< the frame indices read
  int64_t total_frames = 0;      ///< the video's frame count the indices were chosen for
};

/// Decodes the sampled frames of `path` (data/video_reader.h: files, frame folders, images) and
/// preprocesses them. Throws VideoError for missing or corrupt videos.
ConversationVideo read_conversation_video(const std::string& path, const ConversationFrameOptions& options = {});

}  // namespace btadapter::data
