#pragma once
/// Spatial transforms and normalisation of sampled frames, as the official mmaction2 pipelines
/// (reference.md 3.3, 3.4):
///
///   train: Resize(-1, S) -> RandomResizedCrop (one box for all frames) -> Resize(size, size)
///   eval:  Resize(-1, S) -> CenterCrop(size)
///
/// Resize(-1, S) scales the short side to S with factor f = S / short and output size
/// (int(w*f + 0.5), int(h*f + 0.5)) (mmcv.rescale_size), interpolated bilinearly with OpenCV
/// INTER_LINEAR on uint8 (mmcv.imresize's cv2 backend, not PIL bicubic). CenterCrop takes
/// left = (w - size) / 2, top = (h - size) / 2 (floor). Normalisation uses the official RGB 0-255
/// mean (122.771, 116.746, 104.093) and std (68.500, 66.632, 70.323) (CLIP's values times 255).
///
/// Layouts: decoded frames are uint8 [T,H,W,3] RGB; transformed clips are uint8 [T,3,size,size]
/// (cacheable) and normalize_clip makes them float32 [..., 3, H, W].
///
/// Thread safety: pure functions (the RNG is the caller's).

#include "btadapter/data/random.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <utility>

namespace btadapter::data {

/// The official normalisation constants (RGB, 0-255 scale).
constexpr std::array<double, 3> kClipMean = {122.771, 116.746, 104.093};
constexpr std::array<double, 3> kClipStd = {68.500, 66.632, 70.323};

/// A crop rectangle in pixels.
struct CropBox {
  int64_t x = 0, y = 0, width = 0, height = 0;
};

/// Output (height, width) of Resize(-1, short_side) for a height x width frame.
std::pair<int64_t, int64_t> short_side_size(int64_t height, int64_t width, int64_t short_side);

/// Bilinear resize of uint8 [T,H,W,3] frames to [T,height,width,3].
torch::Tensor resize_frames(const torch::Tensor& frames, int64_t height, int64_t width);
/// Resize(-1, short_side) of uint8 [T,H,W,3] frames.
torch::Tensor resize_short_side(const torch::Tensor& frames, int64_t short_side);
/// The centred size x size box of a height x width frame; throws when the frame is smaller.
CropBox center_crop_box(int64_t height, int64_t width, int64_t size);
/// Crops uint8 [T,H,W,3] frames (a copy); throws when the box leaves the frame.
torch::Tensor crop_frames(const torch::Tensor& frames, const CropBox& box);

struct RandomResizedCropOptions {
  TORCH_ARG(double, min_area) = 0.08;        ///< smallest crop area fraction; default 0.08
  TORCH_ARG(double, max_area) = 1.0;         ///< largest crop area fraction; default 1.0
  TORCH_ARG(double, min_ratio) = 3.0 / 4.0;  ///< smallest width/height ratio; default 3/4
  TORCH_ARG(double, max_ratio) = 4.0 / 3.0;  ///< largest width/height ratio; default 4/3
  TORCH_ARG(int64_t, attempts) = 10;         ///< boxes tried before the centred-square fallback; default 10
};

/// mmaction2 RandomResizedCrop.get_crop_bbox: draws all `attempts` log-uniform aspect ratios, then all
/// areas; w = round(sqrt(area * ratio)), h = round(sqrt(area / ratio)) (half to even); the first box
/// that fits gets offsets randint(0, W - w), randint(0, H - h); if none fits, the centred square of
/// side min(H, W).
CropBox random_resized_crop_box(int64_t height, int64_t width, DataRng& rng,
                                const RandomResizedCropOptions& options = {});

struct ClipTransformOptions {
  explicit ClipTransformOptions(int64_t size) : size_(size) {}
  /// Output side (the model's image size), e.g. 224.
  TORCH_ARG(int64_t, size);
  /// Training pipeline (random resized crop) instead of the evaluation one (centre crop); default false.
  TORCH_ARG(bool, train) = false;
  /// Short side S of the first resize; default 0 = automatic: size * 256 / 224 rounded when training
  /// (256 for 224, the pretraining config) and size when evaluating (224: MSR-VTT, K400, UCF101,
  /// HMDB51). DiDeMo, LSMDC and ActivityNet evaluate with 256.
  TORCH_ARG(int64_t, short_side) = 0;
  /// Random resized crop parameters (training only); default mmaction2's.
  TORCH_ARG(RandomResizedCropOptions, crop) = {};

 public:
  /// The short side actually used.
  int64_t resolved_short_side() const;
};

/// Applies the train or eval pipeline: uint8 [T,H,W,3] RGB -> uint8 [T,3,size,size] RGB. `rng` is
/// required when training (one crop box for the whole clip) and ignored otherwise.
torch::Tensor transform_clip(const torch::Tensor& frames, const ClipTransformOptions& options, DataRng* rng);

/// (x - mean) / std over the channel dim -3 of a uint8 or float RGB 0-255 tensor [..., 3, H, W]
/// (CPU or CUDA); returns float32 on the same device.
torch::Tensor normalize_clip(const torch::Tensor& video);

}  // namespace btadapter::data
