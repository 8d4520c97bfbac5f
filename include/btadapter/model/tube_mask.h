#pragma once
/// Tube masking of the BT-Adapter branch (paper 3.3, reference.md 6.4).
///
/// Per video, floor(ratio * P) of the P spatial positions are dropped from the branch in every frame;
/// the frozen CLIP backbone always sees all tokens. A TubeMask stores that per-video spatial `pattern`
/// [B, P] (bool, true = dropped) and a MaskLayout saying which branch tokens are kept:
///
/// - kTube (the paper): the kept branch tokens are the kept positions in every frame, in the branch's
///   patch-major (l t) order; the MBTA target of each is the CLIP token of the same frame and position.
/// - kOfficial (the released code): the flat frame-major (t l) mask [B, T*P] = pattern tiled over frames
///   is applied to the (l t)-ordered branch tokens, i.e. branch token i = p*T + t is kept iff
///   pattern[i mod P] is false; MBTA pairs the k-th kept branch token with the k-th kept CLIP token in
///   (t l) order. This reproduces pretraining with the official code bit for bit.
///
/// Both keep (P - M) * T tokens per video (M = dropped per frame), so the branch shapes are the same.
///
/// Index conventions: branch patch tokens are indexed i = p*T + t ((l t), see adapter_layers.h); CLIP
/// patch tokens of one video are indexed j = t*P + p ((t l), rows of [(b t), P, W] flattened per video).
///
/// Thread safety: TubeMask is an immutable value; TubeMaskGenerator::generate is safe to call from
/// several threads with different generators.

#include "btadapter/config/model_config.h"

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace btadapter {

/// The branch mask of one batch.
class TubeMask {
 public:
  /// `pattern`: [B, P] bool (or integer 0/1), true = dropped; every row must drop the same number of
  /// positions. `frames`: T >= 1.
  TubeMask(torch::Tensor pattern, int64_t frames, MaskLayout layout);

  /// From the official flat mask [B, T*P] (index t*P + p, nonzero = dropped), which must be one spatial
  /// pattern tiled over the T frames (the official TubeMaskingGenerator output).
  static TubeMask from_official_flat(const torch::Tensor& flat, int64_t frames, MaskLayout layout);

  const torch::Tensor& pattern() const { return pattern_; }
  int64_t batch() const { return pattern_.size(0); }
  int64_t num_patches() const { return pattern_.size(1); }
  int64_t frames() const { return frames_; }
  MaskLayout layout() const { return layout_; }
  int64_t dropped_per_frame() const { return dropped_; }
  int64_t kept_per_frame() const { return num_patches() - dropped_; }
  /// Kept branch patch tokens per video, (P - M) * T.
  int64_t kept_tokens() const { return kept_per_frame() * frames_; }

  /// The official flat mask [B, T*P] bool ((t l) order, true = dropped).
  torch::Tensor official_flat() const;
  /// Indices of the kept branch tokens among the (l t)-ordered patch tokens, [B, kept_tokens()] int64,
  /// ascending (the order in which the branch keeps them).
  torch::Tensor branch_index() const;
  /// For each kept branch token, the index j = t*P + p of its MBTA target among the video's CLIP patch
  /// tokens, [B, kept_tokens()] int64, per this mask's layout.
  torch::Tensor target_index() const;

  /// The same mask with `pattern` on `device`.
  TubeMask to(const torch::Device& device) const;

 private:
  torch::Tensor pattern_;
  int64_t frames_;
  MaskLayout layout_;
  int64_t dropped_;
};

/// Same-(patch, frame) MBTA targets for arbitrary kept branch tokens: branch index i = p*T + t maps to the
/// CLIP index t*P + p. `branch_index`: [B, n] int64.
torch::Tensor aligned_target_index(const torch::Tensor& branch_index, int64_t frames, int64_t num_patches);

/// Draws tube masks: each video drops floor(ratio * P) positions chosen uniformly without replacement.
class TubeMaskGenerator {
 public:
  /// `num_patches` P > 0, 0 <= `ratio` < 1.
  TubeMaskGenerator(int64_t num_patches, double ratio, MaskLayout layout = MaskLayout::kTube);

  /// A mask for `batch` videos of `frames` frames, on the CPU, drawn from `generator` (a CPU generator,
  /// e.g. at::detail::createCPUGenerator(seed)); the global CPU generator when none is given.
  TubeMask generate(int64_t batch, int64_t frames, c10::optional<at::Generator> generator = c10::nullopt) const;

  /// floor(ratio * P), computed like the official int(ratio * P).
  int64_t dropped_per_frame() const { return dropped_; }

 private:
  int64_t num_patches_;
  int64_t dropped_;
  MaskLayout layout_;
};

}  // namespace btadapter
