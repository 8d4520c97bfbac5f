// Conversation vision-tower benchmark: seconds per video for chat::VideoTower::video_tokens on a
// ViT-L/14-shaped tower (W 1024, 24 layers, 16 heads, 224 px; random weights) with 64 frames, on the
// CPU in float32 and, with --bf16, in bfloat16 (weights and frames cast; reported as an error when the
// CPU kernels refuse). Applies configure_cpu_runtime (--threads overrides LibTorch's intra-op threads)
// and prints one JSON object per dtype with the runtime settings.
#include "btadapter/chat/video_tower.h"
#include "btadapter/runtime/cpu_runtime.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

namespace {

nlohmann::json run(btadapter::chat::VideoTower& tower, torch::Dtype dtype, int64_t frames, int repeats) {
  nlohmann::json out = {{"dtype", dtype == torch::kFloat ? "float32" : "bfloat16"}, {"frames", frames}};
  try {
    tower->to(dtype);
    const int64_t s = tower->options().image_size();
    const auto input = torch::randn({frames, 3, s, s}).to(dtype);
    tower->video_tokens(input);  // warm-up (allocator, oneDNN kernels)
    std::vector<double> seconds;
    for (int i = 0; i < repeats; ++i) {
      const auto start = std::chrono::steady_clock::now();
      const auto tokens = tower->video_tokens(input);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      out["tokens"] = tokens.sizes().vec();
    }
    double sum = 0;
    for (double v : seconds) sum += v;
    out["seconds_per_video"] = sum / static_cast<double>(seconds.size());
    out["runs_s"] = seconds;
  } catch (const c10::Error& e) {
    out["error"] = e.what_without_backtrace();
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t frames = 64;
  int repeats = 2, threads = 0;
  bool bf16 = false;
  CLI::App app{"Seconds per video of the BT-Adapter conversation vision tower (ViT-L/14 shape, CPU)."};
  app.add_option("--frames", frames, "frames per video")->capture_default_str();
  app.add_option("--repeats", repeats, "timed runs after one warm-up")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch intra-op threads (0: configure_cpu_runtime's choice)")
      ->capture_default_str();
  app.add_flag("--bf16", bf16, "also run in bfloat16");
  CLI11_PARSE(app, argc, argv);
  const auto state = btadapter::configure_cpu_runtime(btadapter::CpuRuntimeOptions().torch_threads(threads));
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  btadapter::chat::VideoTower tower{btadapter::chat::VideoTowerOptions()};  // ViT-L/14 at 224 px
  const nlohmann::json common = {{"bench", "video_tokens"},
                                 {"shape", "ViT-L/14 224px, W 1024, L 24 (23 run), 16 heads, adapter 3 layers"},
                                 {"runtime", btadapter::describe(state)},
                                 {"torch_threads", state.torch_threads}};
  for (torch::Dtype dtype : {torch::kFloat, torch::kBFloat16}) {
    if (dtype == torch::kBFloat16 && !bf16) continue;
    auto result = run(tower, dtype, frames, repeats);
    result.update(common);
    std::cout << result.dump() << std::endl;
  }
  return 0;
}
