// Layer-op benchmark (issue "Performance"): each optimisation of the CPU training step against the code it
// replaced, in the same process on the same inputs, at the shapes a step runs them:
// - attention's batched products: torch::matmul (LibTorch 1.13: one dispatched addmm per matrix) vs
//   batched_matmul (direct BLAS calls on strided views);
// - the frozen CLIP MLP: fc2(x * sigmoid(1.702 x)) with x = fc1(.) vs the no-autograd path (scalings on the
//   GEMMs, one in-place SiLU);
// - the linear layers' products: torch::linear on OpenBLAS with the previous automatic threads (1 LibTorch
//   + every core for OpenBLAS) vs btadapter::linear on oneDNN with the current ones (configure_cpu_runtime).
// Prints one JSON object: milliseconds per call (median of --repeats) and the speed-up of each pair.
#include "btadapter/model/batched_matmul.h"
#include "btadapter/model/encoder_layer.h"
#include "btadapter/model/linear.h"
#include "btadapter/runtime/cpu_runtime.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

namespace {

double median_ms(int repeats, const std::function<void()>& f) {
  // Warm-up for a quarter second: first-use allocations, and the first calls into the BLAS and its
  // threads run several times slower for a while (measured: 8 ms instead of 1.5 ms per call).
  const auto warm_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
  do f(); while (std::chrono::steady_clock::now() < warm_until);
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

nlohmann::ordered_json pair(const std::string& name, double before_ms, double after_ms) {
  return {{"op", name}, {"before_ms", before_ms}, {"after_ms", after_ms}, {"speedup", before_ms / after_ms}};
}

// q k^T of attention over [N, H, L, D] views cut from one fused qkv projection, as ClipAttention makes them.
nlohmann::ordered_json attention_scores(const std::string& name, int64_t n, int64_t heads, int64_t len,
                                        int64_t head_dim, int repeats) {
  torch::NoGradGuard no_grad;
  const auto qkv = torch::randn({n, len, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
  const auto q = qkv[0], k = qkv[1].transpose(-2, -1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  return pair(name, median_ms(repeats, [&] { torch::matmul(q * scale, k); }),
              median_ms(repeats, [&] { btadapter::batched_matmul(q, k, scale); }));
}

nlohmann::ordered_json frozen_mlp(const std::string& name, int64_t rows, int64_t width, int repeats) {
  torch::NoGradGuard no_grad;
  btadapter::ClipMlp mlp(btadapter::ClipMlpOptions(width, 4 * width));
  const auto x = torch::randn({rows, width});
  const auto unfused = [&] {
    const auto hidden = btadapter::quick_gelu(btadapter::linear(x, mlp->fc1->weight, mlp->fc1->bias));
    btadapter::linear(hidden, mlp->fc2->weight, mlp->fc2->bias);
  };
  return pair(name, median_ms(repeats, unfused), median_ms(repeats, [&] { mlp->forward(x); }));
}

// x [rows, in] W^T + b: before with the previous thread choice and ATen's GEMM (OpenBLAS), after with the
// current automatic one and btadapter::linear; leaves the current choice in effect.
nlohmann::ordered_json linear_products(const std::string& name, int64_t rows, int64_t in, int64_t out, int repeats,
                                       int cores) {
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({rows, in}), weight = torch::randn({out, in}), bias = torch::randn({out});
  btadapter::configure_cpu_runtime(btadapter::CpuRuntimeOptions().torch_threads(1).blas_threads(cores));
  const double before = median_ms(repeats, [&] { torch::linear(x, weight, bias); });
  btadapter::configure_cpu_runtime();
  return pair(name, before, median_ms(repeats, [&] { btadapter::linear(x, weight, bias); }));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Before/after timings of the CPU training step's optimised layer ops (prints JSON)"};
  int repeats = 20;
  app.add_option("--repeats", repeats, "timed calls per op (median reported)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const auto runtime = btadapter::configure_cpu_runtime();
    const int cores = runtime.cores;
    nlohmann::ordered_json out{{"cpu_runtime", btadapter::describe(runtime)},
                               {"direct_cpu_gemm", btadapter::has_direct_cpu_gemm()},
                               {"onednn_gemm", btadapter::has_onednn_gemm()}};
    // Small shape (8 videos x 8 frames, 7x7 patches, width 256, 8 heads; 15 kept positions) and ViT-B/16
    // (4 videos x 8 frames, 14x14 patches, width 768, 12 heads; 59 kept positions).
    out["ops"] = {attention_scores("small: frozen attention scores [64x8, 50x32]", 64, 8, 50, 32, repeats),
                  attention_scores("small: temporal attention scores [120x8, 8x32]", 120, 8, 8, 32, repeats),
                  attention_scores("vitb16: frozen attention scores [32x12, 197x64]", 32, 12, 197, 64, repeats / 4 + 1),
                  attention_scores("vitb16: temporal attention scores [236x12, 8x64]", 236, 12, 8, 64, repeats),
                  frozen_mlp("small: frozen MLP [3200 x 256 -> 1024]", 3200, 256, repeats),
                  frozen_mlp("vitb16: frozen MLP [6304 x 768 -> 3072]", 6304, 768, repeats / 4 + 1),
                  linear_products("small: q, k, v projection [3200 x 256 -> 768]", 3200, 256, 768, repeats, cores),
                  linear_products("small: MLP fc2 [3200 x 1024 -> 256]", 3200, 1024, 256, repeats, cores),
                  linear_products("vitb16: q, k, v projection [6304 x 768 -> 2304]", 6304, 768, 2304,
                                  repeats / 4 + 1, cores),
                  linear_products("vitb16: MLP fc1 [6304 x 768 -> 3072]", 6304, 768, 3072, repeats / 4 + 1, cores)};
    std::cout << out.dump() << std::endl;
    return 0;
  } catch (const c10::Error& e) {
    std::cerr << "bench_layer_ops: " << e.what_without_backtrace() << std::endl;
    return 1;
  }
}
