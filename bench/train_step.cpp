// Training-step benchmark (issue "Performance"): one step = frozen CLIP forward on all tokens + the
// BT-Adapter forward/backward with tube masking + VTC/MBCA/MBTA + AdamW on the trainable parameters
// (train::PretrainStep, the step bt_pretrain runs), on random weights and random inputs (no data wait).
// Prints one JSON object per shape: videos/s, peak RSS, the frozen vision forward's FLOPs and the rate
// they imply against this machine's measured sgemm peak, and where the step's time goes (split_s: the
// step's own phase clocks, averaged over the timed steps, with the vision forward split into the frozen
// CLIP part, timed separately on the same frames, and the branch). CPU runs first apply
// configure_cpu_runtime (threads, freed memory kept; --threads, --blas-threads, --release-freed-memory). With --device cuda the model and
// inputs live on the GPU; --precision bf16 runs the step under autocast on either device (as bt_pretrain's
// run.precision does on CUDA), and
// each run also reports the GPU's peak memory, the whole step's approximate FLOP rate and its MFU.
#include "btadapter/dist/process_group.h"
#include "btadapter/model/linear.h"
#include "btadapter/model/video_text_model.h"
#include "btadapter/runtime/autocast.h"
#include "btadapter/runtime/cpu_runtime.h"
#include "btadapter/train/pretrain_step.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/version.h>

// GPU memory statistics: through the CUDA caching allocator's header where the CUDA runtime headers are
// found, else (LibTorch >= 2.9) through c10's device-generic allocator interface, which needs none.
#if defined(BTADAPTER_WITH_CUDA_HEADERS)
#include <c10/cuda/CUDACachingAllocator.h>
#define BTADAPTER_GPU_MEMORY_STATS 1
#elif defined(BTADAPTER_WITH_CUDA) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9))
#include <c10/core/CachingDeviceAllocator.h>
#define BTADAPTER_GPU_MEMORY_STATS 2
#endif

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using btadapter::ModelConfig;

struct Shape {
  std::string name;
  ModelConfig config;
  int64_t frames = 8, batch = 4;
};

ModelConfig tower_sizes(int64_t vw, int64_t vl, int64_t vh, int64_t size, int64_t tw, int64_t tl, int64_t depth) {
  ModelConfig c;
  c.vision.width = vw, c.vision.layers = vl, c.vision.heads = vh, c.vision.patch_size = 16, c.vision.image_size = size;
  c.vision.mlp_dim = 4 * vw;
  c.text.width = tw, c.text.layers = tl, c.text.heads = tw / 64, c.text.mlp_dim = 4 * tw;
  c.embed_dim = tw;
  c.adapter.depth = depth;
  c.adapter.mask_ratio = 0.7;
  return c;
}

// The two shapes: ViT-B/16 (batch 4) and the small one (batch 8), both T = 8, depth 4 / 2; and the
// paper's ViT-L/14 setting (openai CLIP-L/14, 4 branch layers; batch 32, a GPU shape).
Shape make_shape(const std::string& name) {
  if (name == "vitb16") return {name, tower_sizes(768, 12, 12, 224, 512, 12, 4), 8, 4};
  if (name == "vitl14") {
    auto c = tower_sizes(1024, 24, 16, 224, 768, 12, 4);
    c.vision.patch_size = 14;
    return {name, c, 8, 32};
  }
  TORCH_CHECK(name == "small", "--shape: expected vitb16, vitl14, small or both, got '", name, "'");
  auto c = tower_sizes(256, 6, 8, 112, 256, 4, 2);
  c.text.heads = 4;
  return {name, c, 8, 8};
}

// --shape both: the two CPU shapes.
std::vector<std::string> shape_names(const std::string& arg) {
  if (arg == "both") return {"small", "vitb16"};
  return {arg};
}

constexpr int64_t kTextTokens = 32;  // caption length of the random inputs

// Forward FLOPs of the frozen vision tower per video: per layer 24 N w^2 (projections, 4x MLP) + 4 N^2 w.
double vision_gflop_per_video(const Shape& s) {
  const double w = static_cast<double>(s.config.vision.width);
  const double n = std::pow(s.config.vision.image_size / s.config.vision.patch_size, 2) + 1;
  return s.frames * s.config.vision.layers * (24 * n * w * w + 4 * n * n * w) / 1e9;
}

// Approximate FLOPs of one training step per video, in GFLOP: matrix products and attention scores only
// (2 FLOPs per multiply-add); norms, softmax, GELU, gathers, the losses' small heads and AdamW are left out
// (a few percent at these shapes), so the rates below are slight underestimates. Parts:
//   frozen CLIP vision forward on all T (P + 1) tokens (vision_gflop_per_video),
// + 3 x the branch forward (backward ~ 2 x forward) on the p = P - floor(mask_ratio P) kept positions:
//     temporal layer: T p tokens x 5 w^2 (q, k, v, out, temporal_fc) + p sequences of T: 2 T^2 w,
//     spatial layer:  T (p + 1) tokens x 4 w^2 + T sequences of p + 1: 2 (p + 1)^2 w,
//                     MLP on T p + 1 tokens x 2 w m,
// + the frozen text forward of one caption: per layer L (4 w^2 + 2 w m) + 2 L^2 w, L = kTextTokens.
double step_gflop_per_video(const Shape& s) {
  const auto& v = s.config.vision;
  const auto& t = s.config.text;
  const double w = static_cast<double>(v.width), m = static_cast<double>(v.mlp_dim);
  const double frames = static_cast<double>(s.frames);
  const double patches = static_cast<double>(v.num_patches());
  const double kept = patches - std::floor(s.config.adapter.mask_ratio * patches);
  const double temporal = frames * kept * 5 * w * w + kept * 2 * frames * frames * w;
  const double spatial = frames * (kept + 1) * 4 * w * w + frames * 2 * (kept + 1) * (kept + 1) * w +
                         (frames * kept + 1) * 2 * w * m;
  const double branch_forward = 2 * s.config.adapter.depth * (temporal + spatial);
  const double tw = static_cast<double>(t.width), tm = static_cast<double>(t.mlp_dim);
  const double len = static_cast<double>(kTextTokens);
  const double text_forward = 2 * t.layers * (len * (4 * tw * tw + 2 * tw * tm) + 2 * len * len * tw);
  return vision_gflop_per_video(s) + (3 * branch_forward + text_forward) / 1e9;
}

// H100 SXM dense peaks: bf16 tensor cores, and plain fp32 (LibTorch's default keeps TF32 off for matmuls).
constexpr double kH100DenseBf16Tflops = 989.0;
constexpr double kH100Fp32Tflops = 67.0;

// Waits for queued GPU work so that host clocks measure it; a no-op without a CUDA device.
void synchronize_device() {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
}

double seconds(const std::function<void()>& f) {
  synchronize_device();
  const auto start = Clock::now();
  f();
  synchronize_device();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Measured fp32 matrix-product rate (GFLOP/s) of this machine with the current thread settings, through
// the GEMM the model's linear layers use (oneDNN where LibTorch exports it, else ATen's BLAS).
double sgemm_gflops() {
  const auto a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
  for (int i = 0; i < 3; ++i) btadapter::linear(a, b, {});  // the first calls run slow (threads, buffers)
  const double s = seconds([&] {
    for (int i = 0; i < 5; ++i) btadapter::linear(a, b, {});
  });
  return 5 * 2.0 * 2048 * 2048 * 2048 / s / 1e9;
}

// How one shape is run: where, in which precision, how long.
struct RunOptions {
  torch::Device device = torch::kCPU;
  std::optional<torch::Dtype> autocast;  ///< kBFloat16: autocast on the run's device (--precision bf16); nullopt: fp32
  bool checkpointing = false;
  int warmup = 1, steps = 3;
  double sgemm_peak = 0;  ///< this machine's measured fp32 GEMM rate in GFLOP/s (CPU runs only)
};

btadapter::train::StepInputs make_inputs(const Shape& s, torch::Device device) {
  const int64_t size = s.config.vision.image_size;
  btadapter::train::StepInputs in;
  in.video = torch::randn({s.batch, s.frames, 3, size, size}, torch::TensorOptions().device(device));
  in.text_ids = torch::randint(1, 49000, {s.batch, kTextTokens}, torch::TensorOptions().dtype(torch::kLong).device(device));
  in.text_ids.select(1, kTextTokens - 1).fill_(49407);
  in.sample_ids = torch::arange(s.batch);
  return in;
}

// Peak bytes of the CUDA caching allocator on device 0 since the last reset (allocated: tensors;
// reserved: what it holds from the driver), in MiB; nullopt where this build cannot read them.
struct GpuMemory {
  std::optional<double> peak_allocated_mb, peak_reserved_mb;
};

GpuMemory gpu_peak_memory(bool reset) {
  GpuMemory out;
#if defined(BTADAPTER_GPU_MEMORY_STATS)
  // Index 0 of each StatArray is StatType::AGGREGATE (all pools); the enum's namespace moved across 2.x.
#if BTADAPTER_GPU_MEMORY_STATS == 1
  namespace allocator = c10::cuda::CUDACachingAllocator;
  if (reset) {
    allocator::resetPeakStats(0);
    return out;
  }
  const auto stats = allocator::getDeviceStats(0);
#else
  auto* allocator = c10::getDeviceAllocator(c10::kCUDA);
  if (reset) {
    allocator->resetPeakStats(0);
    return out;
  }
  const auto stats = allocator->getDeviceStats(0);
#endif
  out.peak_allocated_mb = static_cast<double>(stats.allocated_bytes[0].peak) / (1 << 20);
  out.peak_reserved_mb = static_cast<double>(stats.reserved_bytes[0].peak) / (1 << 20);
#else
  (void)reset;
#endif
  return out;
}

// The device-specific part of a run's JSON: CPU runs keep the sgemm comparison; CUDA runs replace it with
// GPU memory and the whole step's approximate FLOP rate and MFU (step_gflop_per_video).
void add_device_report(nlohmann::ordered_json& out, const Shape& s, const RunOptions& o, double step_s) {
  out["device"] = o.device.str();
  out["precision"] = o.autocast ? "bf16" : "fp32";
  if (!o.device.is_cuda()) return;
  out.erase("fraction_of_sgemm_peak");
  const GpuMemory memory = gpu_peak_memory(/*reset=*/false);
  out["gpu_peak_allocated_mb"] = memory.peak_allocated_mb ? nlohmann::json(*memory.peak_allocated_mb) : nlohmann::json();
  out["gpu_peak_reserved_mb"] = memory.peak_reserved_mb ? nlohmann::json(*memory.peak_reserved_mb) : nlohmann::json();
  const double gflop = step_gflop_per_video(s);
  const double tflops = gflop * s.batch / step_s / 1e3;
  out["step_gflop_per_video_approx"] = gflop;
  out["step_tflops_approx"] = tflops;
  out["mfu_vs_h100_peak"] = tflops / (o.autocast ? kH100DenseBf16Tflops : kH100Fp32Tflops);
}

void accumulate(btadapter::train::StepTimings& sum, const btadapter::train::StepTimings& t) {
  sum.vision_forward += t.vision_forward, sum.text_forward += t.text_forward;
  sum.heads_and_loss += t.heads_and_loss, sum.backward += t.backward;
  sum.gradient_sync += t.gradient_sync, sum.optimizer += t.optimizer;
}

// The frozen CLIP layers alone on the step's frames (no branch, no gradients), as the step runs them.
double frozen_forward_seconds(btadapter::VideoTextModel& model, const torch::Tensor& video, const RunOptions& o) {
  torch::NoGradGuard no_grad;
  btadapter::AutocastGuard autocast(o.autocast, o.device.type());
  const auto frames = video.flatten(0, 1);
  model->backbone->encode_images(frames);  // warm-up: first-use allocations
  return seconds([&] { model->backbone->encode_images(frames); });
}

// Average seconds per step of each phase; the vision forward is split with the frozen part timed alone.
nlohmann::ordered_json split_json(const btadapter::train::StepTimings& sum, int steps, double frozen_s, double step_s) {
  const auto mean = [steps](double total) { return total / steps; };
  const double vision = mean(sum.vision_forward);
  const double phases = vision + mean(sum.text_forward) + mean(sum.heads_and_loss) + mean(sum.backward) +
                        mean(sum.gradient_sync) + mean(sum.optimizer);
  return {{"frozen_vision_forward", std::min(frozen_s, vision)},
          {"branch_forward", std::max(0.0, vision - frozen_s)},
          {"text_forward", mean(sum.text_forward)},
          {"heads_and_loss", mean(sum.heads_and_loss)},
          {"backward", mean(sum.backward)},
          {"gradient_sync", mean(sum.gradient_sync)},
          {"optimizer", mean(sum.optimizer)},
          {"other", step_s - phases},
          {"data_wait", 0.0}};
}

nlohmann::ordered_json run_shape(const Shape& s, const RunOptions& o) {
  const int warmup = o.warmup, steps = o.steps;
  const bool checkpointing = o.checkpointing;
  const double peak = o.sgemm_peak;
  torch::manual_seed(0);
  btadapter::VideoTextModel model(s.config);
  model->set_gradient_checkpointing(checkpointing);
  model->to(o.device);
  namespace train = btadapter::train;
  train::PretrainStep step(model,
                           train::PretrainStepOptions(train::ParamGroupOptions(2e-6), train::WarmupCosineOptions(100))
                               .autocast(o.autocast)
                               .synchronize_timings(o.device.is_cuda()),
                           btadapter::dist::make_single_process_group());
  train::StepInputs in = make_inputs(s, o.device);
  if (o.device.is_cuda()) gpu_peak_memory(/*reset=*/true);
  for (int i = 0; i < warmup; ++i) step.run(in, i);
  train::StepTimings timings;
  const double step_s = seconds([&] {
                          for (int i = 0; i < steps; ++i) accumulate(timings, step.run(in, warmup + i).timings);
                        }) / steps;
  const double frozen_s = frozen_forward_seconds(model, in.video, o);
  const double gflop = vision_gflop_per_video(s);
  const double videos_per_s = s.batch / step_s;
  nlohmann::ordered_json out{{"shape", s.name},
          {"batch", s.batch},
          {"frames", s.frames},
          {"gradient_checkpointing", checkpointing},
          {"videos_per_s", videos_per_s},
          {"step_s", step_s},
          {"peak_rss_mb", peak_rss_mb()},
          {"frozen_vision_gflop_per_video", gflop},
          {"frozen_vision_gflop_per_s", gflop * videos_per_s},
          {"fraction_of_sgemm_peak", gflop * videos_per_s / peak},
          {"split_s", split_json(timings, steps, frozen_s, step_s)}};
  add_device_report(out, s, o, step_s);
  return out;
}

// --device and --precision as RunOptions (bf16: autocast on either device).
RunOptions run_options(const std::string& device, const std::string& precision) {
  TORCH_CHECK(device == "cpu" || device == "cuda", "--device: expected cpu or cuda, got '", device, "'");
  TORCH_CHECK(precision == "fp32" || precision == "bf16", "--precision: expected fp32 or bf16, got '", precision, "'");
  RunOptions o;
  if (device == "cuda") {
    TORCH_CHECK(torch::cuda::is_available(), "--device cuda: this LibTorch sees no CUDA device");
    o.device = torch::Device(torch::kCUDA, 0);
  }
  if (precision == "bf16") o.autocast = torch::kBFloat16;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"BT-Adapter training-step benchmark on random weights (prints JSON)"};
  std::string shape = "both", device = "cpu", precision = "fp32";
  int warmup = 1, steps = 3, threads = 0, blas_threads = 0;
  int64_t batch = 0;
  bool checkpointing = false, release_freed_memory = false;
  app.add_option("--shape", shape, "vitb16, vitl14, small or both (small and vitb16)")->capture_default_str();
  app.add_option("--device", device, "cpu or cuda")->capture_default_str();
  app.add_option("--precision", precision, "fp32 or bf16 (autocast; on CPU fast with AVX-512 BF16)")->capture_default_str();
  app.add_option("--batch", batch, "videos per step (0 = the shape's default)")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed steps first")->capture_default_str();
  app.add_option("--steps", steps, "timed steps")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch intra-op threads (0 = automatic, see runtime/cpu_runtime.h)")
      ->capture_default_str();
  app.add_option("--blas-threads", blas_threads, "BLAS threads (0 = automatic, see runtime/cpu_runtime.h)")->capture_default_str();
  app.add_flag("--release-freed-memory", release_freed_memory,
               "let glibc return freed memory to the system (the default before configure_cpu_runtime)");
  app.add_flag("--checkpointing", checkpointing, "gradient checkpointing of the branch layers");
  CLI11_PARSE(app, argc, argv);
  try {
    TORCH_CHECK(batch >= 0, "--batch: expected 0 or more, got ", batch);
    RunOptions options = run_options(device, precision);
    options.warmup = warmup, options.steps = steps, options.checkpointing = checkpointing;
    nlohmann::ordered_json out;
    if (!options.device.is_cuda()) {
      const auto runtime = btadapter::configure_cpu_runtime(btadapter::CpuRuntimeOptions()
                                                                .torch_threads(threads)
                                                                .blas_threads(blas_threads)
                                                                .keep_freed_memory(!release_freed_memory));
      out["cpu_runtime"] = {{"cores", runtime.cores},
                            {"torch_threads", runtime.torch_threads},
                            {"blas", runtime.blas},
                            {"blas_threads", runtime.blas_threads},
                            {"onednn_gemm", runtime.onednn_gemm},
                            {"keeps_freed_memory", runtime.keeps_freed_memory}};
      options.sgemm_peak = sgemm_gflops();
      out["sgemm_gflops_measured"] = options.sgemm_peak;
    }
    out["runs"] = nlohmann::json::array();
    for (const std::string& name : shape_names(shape)) {
      Shape s = make_shape(name);
      if (batch > 0) s.batch = batch;
      out["runs"].push_back(run_shape(s, options));
    }
    std::cout << out.dump() << std::endl;
    return 0;
  } catch (const c10::Error& e) {
    std::cerr << "bench_train_step: " << e.what_without_backtrace() << std::endl;
    return 1;
  }
}
