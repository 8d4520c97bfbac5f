#pragma once
/// Autocast for a scope (CUDA by default, or CPU), what `with torch.autocast("cuda", dtype=...)` does in Python: matrix
/// products and convolutions run in `dtype` (bf16 for training and evaluation on GPUs), reductions and
/// norms stay in fp32. LibTorch 2.4 renamed the C++ calls to per-device-type ones; both spellings are
/// handled here, in one place.
///
///   {
///     AutocastGuard autocast(torch::kBFloat16);   // std::nullopt: leave autocast as it is (fp32)
///     auto video = model->encode_video(frames).video_embeds;
///   }                                             // previous state restored
///
/// Gradient checkpointing (model/checkpoint.h) records current_autocast_dtype() of both device types when a
/// block runs and recomputes it under the same settings in backward, as torch.utils.checkpoint does.
///
/// Thread safety: autocast state is thread-local in ATen; a guard affects only its own thread.

#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <optional>

namespace btadapter {

class AutocastGuard {
 public:
  /// Enables autocast to `dtype` for `device` (CUDA, or CPU: bf16 matrix products through oneDNN, fast on
  /// CPUs with AVX-512 BF16) until destruction; nullopt changes nothing.
  explicit AutocastGuard(std::optional<at::ScalarType> dtype, c10::DeviceType device = c10::DeviceType::CUDA)
      : active_(dtype.has_value()), device_(device) {
    TORCH_CHECK(device == c10::DeviceType::CUDA || device == c10::DeviceType::CPU,
                "AutocastGuard: expected a CUDA or CPU device type, got ", device);
    if (!active_) return;
    previous_enabled_ = enabled(device_);
    previous_dtype_ = current_dtype(device_);
    set(device_, true, *dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set(device_, previous_enabled_, previous_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

  /// This thread's autocast dtype for `device` when autocast is on there, else nullopt.
  static std::optional<at::ScalarType> current_autocast_dtype(c10::DeviceType device = c10::DeviceType::CUDA) {
    return enabled(device) ? std::optional<at::ScalarType>(current_dtype(device)) : std::nullopt;
  }

 private:
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  static bool enabled(c10::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
  static at::ScalarType current_dtype(c10::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
  static void set(c10::DeviceType d, bool on, at::ScalarType dtype) {
    at::autocast::set_autocast_enabled(d, on);
    at::autocast::set_autocast_dtype(d, dtype);
  }
#else
  static bool enabled(c10::DeviceType d) {
    return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
  }
  static at::ScalarType current_dtype(c10::DeviceType d) {
    return d == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
  }
  static void set(c10::DeviceType d, bool on, at::ScalarType dtype) {
    if (d == c10::DeviceType::CPU) {
      at::autocast::set_cpu_enabled(on);
      at::autocast::set_autocast_cpu_dtype(dtype);
    } else {
      at::autocast::set_enabled(on);
      at::autocast::set_autocast_gpu_dtype(dtype);
    }
  }
#endif

  bool active_;
  c10::DeviceType device_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kHalf;
};

}  // namespace btadapter
