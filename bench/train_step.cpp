// Training-step benchmark (issue "Performance"): one step = frozen CLIP forward on all tokens + the
// BT-Adapter forward/backward with tube masking + VTC/MBCA/MBTA + AdamW on the trainable parameters
// (train::PretrainStep, the step bt_pretrain runs), on random weights and random inputs (no data wait).
// Prints one JSON object per shape: videos/s, peak RSS, the frozen vision forward's FLOPs and the rate
// they imply against this machine's measured sgemm peak, and a time split.
#include "btadapter/dist/process_group.h"
#include "btadapter/model/video_text_model.h"
#include "btadapter/train/pretrain_step.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

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

// The two shapes: ViT-B/16 (batch 4) and the small one (batch 8), both T = 8, depth 4 / 2.
Shape make_shape(const std::string& name) {
  if (name == "vitb16") return {name, tower_sizes(768, 12, 12, 224, 512, 12, 4), 8, 4};
  TORCH_CHECK(name == "small", "--shape: expected vitb16, small or both, got '", name, "'");
  auto c = tower_sizes(256, 6, 8, 112, 256, 4, 2);
  c.text.heads = 4;
  return {name, c, 8, 8};
}

// Forward FLOPs of the frozen vision tower per video: per layer 24 N w^2 (projections, 4x MLP) + 4 N^2 w.
double vision_gflop_per_video(const Shape& s) {
  const double w = static_cast<double>(s.config.vision.width);
  const double n = std::pow(s.config.vision.image_size / s.config.vision.patch_size, 2) + 1;
  return s.frames * s.config.vision.layers * (24 * n * w * w + 4 * n * n * w) / 1e9;
}

double seconds(const std::function<void()>& f) {
  const auto start = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Measured fp32 matrix-product rate (GFLOP/s) of this machine with the current thread settings.
double sgemm_gflops() {
  const auto a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
  torch::mm(a, b);
  const double s = seconds([&] {
    for (int i = 0; i < 5; ++i) torch::mm(a, b);
  });
  return 5 * 2.0 * 2048 * 2048 * 2048 / s / 1e9;
}

nlohmann::ordered_json run_shape(const Shape& s, int warmup, int steps, bool checkpointing, double peak) {
  torch::manual_seed(0);
  btadapter::VideoTextModel model(s.config);
  model->set_gradient_checkpointing(checkpointing);
  namespace train = btadapter::train;
  train::PretrainStep step(model, train::PretrainStepOptions(train::ParamGroupOptions(2e-6), train::WarmupCosineOptions(100)),
                           btadapter::dist::make_single_process_group());
  const int64_t size = s.config.vision.image_size;
  train::StepInputs in;
  in.video = torch::randn({s.batch, s.frames, 3, size, size});
  in.text_ids = torch::randint(1, 49000, {s.batch, 32}, torch::kLong);
  in.text_ids.select(1, 31).fill_(49407);
  in.sample_ids = torch::arange(s.batch);
  for (int i = 0; i < warmup; ++i) step.run(in, i);
  const double step_s = seconds([&] {
                          for (int i = 0; i < steps; ++i) step.run(in, warmup + i);
                        }) / steps;
  torch::NoGradGuard no_grad;
  model->eval();
  const double video_forward_s = seconds([&] { model->encode_video(in.video); });
  const double text_forward_s = seconds([&] { model->encode_text(in.text_ids); });
  const double gflop = vision_gflop_per_video(s);
  const double videos_per_s = s.batch / step_s;
  return {{"shape", s.name},
          {"batch", s.batch},
          {"frames", s.frames},
          {"gradient_checkpointing", checkpointing},
          {"videos_per_s", videos_per_s},
          {"step_s", step_s},
          {"peak_rss_mb", peak_rss_mb()},
          {"frozen_vision_gflop_per_video", gflop},
          {"frozen_vision_gflop_per_s", gflop * videos_per_s},
          {"fraction_of_sgemm_peak", gflop * videos_per_s / peak},
          {"split_s",
           {{"video_forward_no_grad", video_forward_s},
            {"text_forward_no_grad", text_forward_s},
            {"backward_optimizer_and_rest", step_s - video_forward_s - text_forward_s},
            {"data_wait", 0.0}}}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"BT-Adapter training-step benchmark on random weights (prints JSON)"};
  std::string shape = "both";
  int warmup = 1, steps = 3, threads = 0;
  bool checkpointing = false;
  app.add_option("--shape", shape, "vitb16, small or both")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed steps first")->capture_default_str();
  app.add_option("--steps", steps, "timed steps")->capture_default_str();
  app.add_option("--threads", threads, "torch intra-op threads (0 = LibTorch's default)")->capture_default_str();
  app.add_flag("--checkpointing", checkpointing, "gradient checkpointing of the branch layers");
  CLI11_PARSE(app, argc, argv);
  try {
    if (threads > 0) torch::set_num_threads(threads);
    const char* blas = std::getenv("OPENBLAS_NUM_THREADS");
    const double peak = sgemm_gflops();
    nlohmann::ordered_json out{{"torch_threads", torch::get_num_threads()},
                               {"openblas_threads_env", blas ? blas : "unset"},
                               {"sgemm_gflops_measured", peak},
                               {"runs", nlohmann::json::array()}};
    for (const std::string name : {"small", "vitb16"}) {
      if (shape == "both" || shape == name) out["runs"].push_back(run_shape(make_shape(name), warmup, steps, checkpointing, peak));
    }
    TORCH_CHECK(!out["runs"].empty(), "--shape: expected vitb16, small or both, got '", shape, "'");
    std::cout << out.dump() << std::endl;
    return 0;
  } catch (const c10::Error& e) {
    std::cerr << "bench_train_step: " << e.what_without_backtrace() << std::endl;
    return 1;
  }
}
