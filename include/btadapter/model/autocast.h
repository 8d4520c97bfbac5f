#pragma once
/// CUDA autocast for a scope, what `with torch.autocast("cuda", dtype=...)` does in Python: matrix
/// products and convolutions run in `dtype` (bf16 for training and evaluation on GPUs), reductions and
/// norms stay in fp32. LibTorch 2.4 renamed the C++ calls to per-device-type ones; both spellings are
/// handled here, in one place.
///
///   {
///     AutocastGuard autocast(torch::kBFloat16);   // std::nullopt: leave autocast as it is (fp32)
///     auto video = model->encode_video(frames).video_embeds;
///   }                                             // previous state restored
///
/// Gradient checkpointing (model/checkpoint.h) records current_autocast_dtype() when a block runs and
/// recomputes it under the same setting in backward, as torch.utils.checkpoint does.
///
/// Thread safety: autocast state is thread-local in ATen; a guard affects only its own thread.

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <optional>

namespace btadapter {

class AutocastGuard {
 public:
  /// Enables CUDA autocast to `dtype` until destruction; nullopt changes nothing.
  explicit AutocastGuard(std::optional<at::ScalarType> dtype) : active_(dtype.has_value()) {
    if (!active_) return;
    previous_enabled_ = enabled();
    previous_dtype_ = current_dtype();
    set(true, *dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set(previous_enabled_, previous_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

  /// The CUDA autocast dtype of this thread when autocast is on, else nullopt.
  static std::optional<at::ScalarType> current_autocast_dtype() {
    return enabled() ? std::optional<at::ScalarType>(current_dtype()) : std::nullopt;
  }

 private:
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  static bool enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
  static at::ScalarType current_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
  static void set(bool on, at::ScalarType dtype) {
    at::autocast::set_autocast_enabled(at::kCUDA, on);
    at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  }
#else
  static bool enabled() { return at::autocast::is_enabled(); }
  static at::ScalarType current_dtype() { return at::autocast::get_autocast_gpu_dtype(); }
  static void set(bool on, at::ScalarType dtype) {
    at::autocast::set_enabled(on);
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif

  bool active_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kHalf;
};

}  // namespace btadapter
