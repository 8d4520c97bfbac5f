#pragma once
/// The video splice of Video-ChatGPT / BT-Adapter with `mm_use_vid_start_end`
/// (`VideoChatGPTLlamaModel.forward`): the projected video features replace the embeddings of the
/// `<vid_patch>` run that follows each `<vid_start>`.
///
/// For a `<vid_start>` at position s and a video of P+1 feature rows:
///   spliced = embeds[:s+1] ++ features (P+1 rows) ++ embeds[s+P+2:]   (same length as embeds)
/// and ids[s+P+2] must be `<vid_end>`. `<vid_start>` and `<vid_end>` keep their token embeddings.
///
/// Videos are consumed in order over the batch: one per `<vid_start>`, and (as the official code
/// does) one for a sample without any `<vid_patch>`, which is left unchanged. Unlike the official
/// loop, a sample with several `<vid_start>` gets every one of its videos (the official code keeps only
/// the last splice of such a sample).
///
/// Usage:
///   auto embeds = model->embed(ids);
///   auto spliced = llm::splice_video_features(ids, embeds, projected.unsqueeze(0),
///                                             llm::VideoSpliceOptions(333, 334, 335));
///
/// Thread safety: a pure function.

#include <torch/arg.h>
#include <torch/types.h>

namespace btadapter::llm {

/// The special token ids and the gradient rule.
struct VideoSpliceOptions {
  VideoSpliceOptions(int64_t vid_patch_id, int64_t vid_start_id, int64_t vid_end_id)
      : vid_patch_id_(vid_patch_id), vid_start_id_(vid_start_id), vid_end_id_(vid_end_id) {}
  /// `<vid_patch>` id (a sample without it takes no video).
  TORCH_ARG(int64_t, vid_patch_id);
  /// `<vid_start>` id.
  TORCH_ARG(int64_t, vid_start_id);
  /// `<vid_end>` id.
  TORCH_ARG(int64_t, vid_end_id);
  /// Detach every text row except `<vid_start>` and `<vid_end>` of a spliced sample (training with
  /// `orig_embeds_params`: only those two embedding rows learn, quirk 13); default false. The
  /// features always keep their graph.
  TORCH_ARG(bool, detach_text_rows) = false;
};

/// input_ids [B, N] int64, embeds [B, N, D], features [V, P+1, D] (V videos, same dtype and device as
/// embeds) -> [B, N, D]. Errors: unequal `<vid_start>` / `<vid_end>` counts in a sample, a missing
/// `<vid_end>` at s+P+2 (naming s and what is there), a run past the end, more videos needed than
/// given, or fewer used than given.
torch::Tensor splice_video_features(const torch::Tensor& input_ids, const torch::Tensor& embeds,
                                    const torch::Tensor& features, const VideoSpliceOptions& options);

}  // namespace btadapter::llm
