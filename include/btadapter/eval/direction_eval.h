#pragma once
/// Direction accuracy on time-reversed video pairs: can the model tell a video from the same video played
/// backwards? For each pair (video A, video B = A reversed, with captions a and b), caption a should
/// score higher with A than with B and caption b higher with B than with A. Each of the 2 * pairs texts
/// scores 1 when its own video wins, 1/2 on a tie, 0 otherwise; the accuracy is the mean, in percent.
/// A model blind to frame order (the frozen-CLIP mean of frames) embeds A and B identically and scores
/// exactly 50.
///
/// The reversed twin is, by default, the forward video's sampled clip played backwards (the same decoded
/// frames in the opposite order), so an order-blind model really sees the same frames. Encoding the
/// twin's own file instead (reversed_from_files) adds codec noise and, unless T divides the frame count
/// evenly, a different set of sampled frames (UniformSample is not symmetric in time): the baseline then
/// lands only near 50.
///
/// Ties: |s(own) - s(twin)| <= tie_tolerance (default 1e-5) counts as a tie, because the "identical"
/// embeddings of an order-blind model still differ in the last float32 bits (frames summed in another
/// order).
///
/// The pairs file is the sidecar bt_make_synthetic writes (data/synthetic.h):
///   {"annotations": "test.json", "pairs": [{"forward": "video0.mp4", "reversed": "video1.mp4",
///     "forward_caption": "...", "reversed_caption": "..."}, ...]}
/// Video names resolve against a root as in the annotations (data::resolve_video_path).
///
/// Thread safety: free functions; the model may be shared.

#include "btadapter/btadapter.h"

#include <torch/arg.h>

#include <cstdint>
#include <string>
#include <vector>

namespace btadapter::eval {

struct DirectionPair {
  std::string forward, reversed;                  ///< video names as written
  std::string forward_caption, reversed_caption;  ///< their captions
};

/// Reads a pairs file; errors name the file and the entry.
std::vector<DirectionPair> read_direction_pairs(const std::string& path);

struct DirectionMetrics {
  int64_t pairs = 0;
  int64_t texts = 0;           ///< 2 * pairs
  int64_t wins = 0;            ///< texts whose own video scored higher
  int64_t ties = 0;            ///< texts with a tie (each counts 1/2)
  double accuracy = 0;         ///< (wins + ties / 2) / texts * 100
  double tie_tolerance = 1e-5;
};

/// Direction accuracy from embeddings: forward/reversed video embeddings [P, E] and the forward/reversed
/// caption embeddings [P, E] (L2-normalised; row p is pair p).
DirectionMetrics direction_accuracy(const torch::Tensor& forward_videos, const torch::Tensor& reversed_videos,
                                    const torch::Tensor& forward_texts, const torch::Tensor& reversed_texts,
                                    double tie_tolerance = 1e-5);

struct DirectionEvalOptions {
  /// Folder the video names are relative to; default "".
  TORCH_ARG(std::string, root) = "";
  /// Frame sampling, resize and batching; default VideoOptions().
  TORCH_ARG(VideoOptions, video) = {};
  /// Encode each reversed twin from its own file instead of the forward clip reversed; default false.
  TORCH_ARG(bool, reversed_from_files) = false;
  /// Largest score difference counted as a tie; default 1e-5.
  TORCH_ARG(double, tie_tolerance) = 1e-5;
};

/// Encodes the pairs' videos and captions and scores them (see the file comment).
DirectionMetrics run_direction_eval(const Model& model, const std::string& pairs_path,
                                    const DirectionEvalOptions& options = {});

/// {"pairs": .., "texts": .., "wins": .., "ties": .., "accuracy": .., "tie_tolerance": ..}
std::string direction_metrics_json(const DirectionMetrics& metrics);

}  // namespace btadapter::eval
