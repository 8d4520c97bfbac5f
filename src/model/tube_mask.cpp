#include "btadapter/model/tube_mask.h"

#include <torch/torch.h>

namespace btadapter {
namespace {

// Column indices of the true entries of a [B, N] bool tensor whose rows all hold `per_row` of them,
// ascending per row.
torch::Tensor row_indices(const torch::Tensor& keep, int64_t per_row) {
  return torch::nonzero(keep).select(1, 1).reshape({keep.size(0), per_row});
}

}  // namespace

TubeMask::TubeMask(torch::Tensor pattern, int64_t frames, MaskLayout layout)
    : pattern_(pattern.to(torch::kBool)), frames_(frames), layout_(layout) {
  TORCH_CHECK(pattern_.dim() == 2 && pattern_.size(0) > 0 && pattern_.size(1) > 0,
              "TubeMask: expected a pattern [B, P], got ", pattern.sizes());
  TORCH_CHECK(frames > 0, "TubeMask: expected frames >= 1, got ", frames);
  auto counts = pattern_.sum(1);
  dropped_ = counts[0].item<int64_t>();
  TORCH_CHECK(counts.eq(dropped_).all().item<bool>(),
              "TubeMask: expected every video to drop the same number of positions, got counts ", counts);
  TORCH_CHECK(dropped_ < num_patches(), "TubeMask: expected at least one kept position, got ", dropped_,
              " of ", num_patches(), " dropped");
}

TubeMask TubeMask::from_official_flat(const torch::Tensor& flat, int64_t frames, MaskLayout layout) {
  TORCH_CHECK(flat.dim() == 2 && frames > 0 && flat.size(1) % frames == 0,
              "TubeMask: expected an official mask [B, T*P] with T = ", frames, ", got ", flat.sizes());
  auto per_frame = flat.to(torch::kBool).view({flat.size(0), frames, flat.size(1) / frames});
  auto pattern = per_frame.select(1, 0);
  TORCH_CHECK(per_frame.eq(pattern.unsqueeze(1)).all().item<bool>(),
              "TubeMask: expected the official mask to repeat one spatial pattern in every frame");
  return TubeMask(pattern.contiguous(), frames, layout);
}

torch::Tensor TubeMask::official_flat() const { return pattern_.repeat({1, frames_}); }

torch::Tensor TubeMask::branch_index() const {
  // Flat keep flags over the (l t)-ordered branch tokens i = p*T + t.
  auto keep = layout_ == MaskLayout::kTube ? (~pattern_).repeat_interleave(frames_, 1)  // pattern[i / T]
                                           : (~pattern_).repeat({1, frames_});          // pattern[i % P]
  return row_indices(keep, kept_tokens());
}

torch::Tensor TubeMask::target_index() const {
  if (layout_ == MaskLayout::kTube) return aligned_target_index(branch_index(), frames_, num_patches());
  // The official code applies the same flat mask to the (t l)-ordered CLIP tokens.
  return row_indices((~pattern_).repeat({1, frames_}), kept_tokens());
}

TubeMask TubeMask::to(const torch::Device& device) const {
  TubeMask moved = *this;
  moved.pattern_ = pattern_.to(device);
  return moved;
}

torch::Tensor aligned_target_index(const torch::Tensor& branch_index, int64_t frames, int64_t num_patches) {
  return torch::remainder(branch_index, frames) * num_patches + torch::div(branch_index, frames, "floor");
}

TubeMaskGenerator::TubeMaskGenerator(int64_t num_patches, double ratio, MaskLayout layout)
    : num_patches_(num_patches), dropped_(static_cast<int64_t>(ratio * static_cast<double>(num_patches))),
      layout_(layout) {
  TORCH_CHECK(num_patches > 0, "TubeMaskGenerator: expected num_patches > 0, got ", num_patches);
  TORCH_CHECK(ratio >= 0.0 && ratio < 1.0, "TubeMaskGenerator: expected 0 <= ratio < 1, got ", ratio);
}

TubeMask TubeMaskGenerator::generate(int64_t batch, int64_t frames, c10::optional<at::Generator> generator) const {
  TORCH_CHECK(batch > 0, "TubeMaskGenerator: expected batch > 0, got ", batch);
  // A uniformly random subset per row: the positions of the `dropped_` smallest uniform draws.
  auto draws = torch::rand({batch, num_patches_}, generator, torch::kFloat);
  auto dropped = draws.argsort(/*dim=*/int64_t{1}).narrow(1, 0, dropped_);
  auto pattern = torch::zeros({batch, num_patches_}, torch::kBool).scatter_(1, dropped, true);
  return TubeMask(pattern, frames, layout_);
}

}  // namespace btadapter
