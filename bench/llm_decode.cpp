// LLaMA decoding benchmark on the CPU: a LLaMA-7B-shaped model (4096 wide, 32 layers, 32 heads, MLP 11008,
// vocabulary 32000; options for smaller shapes) with random bfloat16 weights, filled in place from a
// small random tile (no float32 copy: 13.5 GB of weights on a 24 GB machine). Measures
// - the memory-bandwidth bound: a streaming read over all the weights (GB/s) and the decode rate it
//   allows, bandwidth / weight bytes (each decoded token reads every weight once);
// - greedy generation from a random prompt (257 video rows + 40 text tokens by default): prefill
//   tokens/s, time to first token, decode tokens/s and its share of the bound;
// - peak RSS against weights + KV cache.
// --aten runs the projections and attention on ATen's bf16 kernels instead (the before of the fast path).
// --threads sets LibTorch's threads (default: configure_cpu_runtime's choice, every core). On a machine
// that other processes keep busy, two OpenMP threads on two cores wait at every parallel region's barrier
// for a descheduled peer: measured here, 8 layers of 2048, decode 0.76 tokens/s with 2 threads against
// 15.5 with 1, so compare both.
// Prints one JSON object.
#include "btadapter/llm/generation.h"
#include "btadapter/runtime/cpu_runtime.h"

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

using namespace btadapter;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double status_mb(const std::string& key) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  }
  return 0.0;
}

// Sum of 64-byte blocks as 32-bit integers: a read that the loads, not the arithmetic, limit.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) uint64_t read_blocks(const char* data, int64_t blocks) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 4 <= blocks; i += 4) {
    a0 = _mm512_add_epi32(a0, _mm512_loadu_si512(data + 64 * i));
    a1 = _mm512_add_epi32(a1, _mm512_loadu_si512(data + 64 * i + 64));
    a2 = _mm512_add_epi32(a2, _mm512_loadu_si512(data + 64 * i + 128));
    a3 = _mm512_add_epi32(a3, _mm512_loadu_si512(data + 64 * i + 192));
  }
  for (; i < blocks; ++i) a0 = _mm512_add_epi32(a0, _mm512_loadu_si512(data + 64 * i));
  return static_cast<uint32_t>(_mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3))));
}
#else
uint64_t read_blocks(const char* data, int64_t blocks) {
  uint64_t sum = 0;
  for (int64_t i = 0; i < blocks * 8; ++i) sum += reinterpret_cast<const uint64_t*>(data)[i];
  return sum;
}
#endif

// Best GB/s of `rounds` streaming reads over every parameter, split over LibTorch's threads.
double streaming_read_gbs(llm::LlamaForCausalLMImpl& model, int rounds) {
  std::vector<torch::Tensor> params = model.parameters();
  double bytes = 0;
  for (const auto& p : params) bytes += static_cast<double>(p.nbytes());
  double best = 0;
  uint64_t sink = 0;
  for (int r = 0; r < rounds; ++r) {
    const auto start = Clock::now();
    for (const auto& p : params) {
      const auto* data = static_cast<const char*>(p.data_ptr());
      const int64_t blocks = static_cast<int64_t>(p.nbytes()) / 64;
      constexpr int64_t kChunk = 1 << 14;  // 1 MB
      std::vector<uint64_t> sums((blocks + kChunk - 1) / kChunk, 0);
      at::parallel_for(0, static_cast<int64_t>(sums.size()), 1, [&](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c) sums[c] = read_blocks(data + 64 * c * kChunk, std::min(kChunk, blocks - c * kChunk));
      });
      for (const auto s : sums) sink += s;
    }
    best = std::max(best, bytes / seconds_since(start) / 1e9);
  }
  if (sink == 42) std::cerr << "";  // keep the reads
  return best;
}

// Every parameter filled from a random tile, in place: weights of a plausible scale, no extra copy.
void fill_weights(llm::LlamaForCausalLMImpl& model) {
  torch::NoGradGuard no_grad;
  constexpr int64_t kTile = 1 << 16;
  const auto tile = (torch::randn({kTile}) * 0.02).to(torch::kBFloat16);
  for (auto& p : model.parameters()) {
    if (p.dim() == 1) continue;  // norms stay at 1
    auto flat = p.view({-1});
    for (int64_t i = 0; i < flat.numel(); i += kTile) {
      const int64_t n = std::min(kTile, flat.numel() - i);
      flat.narrow(0, i, n).copy_(tile.narrow(0, 0, n));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"LLaMA bf16 CPU decoding benchmark (prints JSON)"};
  llm::LlamaConfig config;  // LLaMA-7B
  int64_t prompt = 297, new_tokens = 16;
  int rounds = 3;
  bool aten = false;
  int threads = 0;
  app.add_option("--hidden", config.hidden_size, "model width")->capture_default_str();
  app.add_option("--layers", config.num_hidden_layers, "decoder layers")->capture_default_str();
  app.add_option("--heads", config.num_attention_heads, "attention heads")->capture_default_str();
  app.add_option("--mlp", config.intermediate_size, "MLP hidden size")->capture_default_str();
  app.add_option("--vocab", config.vocab_size, "vocabulary")->capture_default_str();
  app.add_option("--prompt", prompt, "prompt tokens (257 video + 40 text)")->capture_default_str();
  app.add_option("--new-tokens", new_tokens, "greedy tokens to generate")->capture_default_str();
  app.add_option("--read-rounds", rounds, "streaming reads for the bandwidth (best counts)")->capture_default_str();
  app.add_flag("--aten", aten, "ATen's bf16 kernels instead of the fast CPU path");
  app.add_option("--threads", threads, "LibTorch threads (0 = automatic)")->capture_default_str();
  try {
    app.parse(argc, argv);
    config.num_key_value_heads = config.num_attention_heads;
    const auto runtime = configure_cpu_runtime(CpuRuntimeOptions().torch_threads(threads));
    const auto build_start = Clock::now();
    llm::LlamaForCausalLM model(
        llm::LlamaOptions(config).dtype(torch::kBFloat16).init_weights(false).fast_cpu_bf16(!aten));
    fill_weights(*model);
    const double build_s = seconds_since(build_start);
    double weight_bytes = 0;
    for (const auto& p : model->parameters()) weight_bytes += static_cast<double>(p.nbytes());
    // Decoding reads every matrix except the embedding table (one row of it).
    const double decode_bytes = weight_bytes - static_cast<double>(model->model->embed_tokens->weight.nbytes());
    const double bandwidth = streaming_read_gbs(*model, rounds);

    torch::manual_seed(0);
    const auto ids = torch::randint(0, config.vocab_size, {1, prompt}, torch::kLong);
    const auto embeds = model->embed(ids);
    const auto result = llm::generate(model, embeds, llm::GenerationOptions().max_new_tokens(new_tokens));
    const double bound = bandwidth * 1e9 / decode_bytes;
    const double kv_bytes = 2.0 * config.num_hidden_layers * config.hidden_size * (prompt + new_tokens - 1) * 2;
    nlohmann::json out = {
        {"shape", {{"hidden", config.hidden_size}, {"layers", config.num_hidden_layers},
                   {"heads", config.num_attention_heads}, {"mlp", config.intermediate_size},
                   {"vocab", config.vocab_size}}},
        {"kernels", aten ? "aten" : "fast_cpu_bf16"},
        {"runtime", describe(runtime)},
        {"weights_gb", weight_bytes / 1e9},
        {"build_and_fill_s", build_s},
        {"streaming_read_gbs", bandwidth},
        {"bound_tokens_per_s", bound},
        {"prompt_tokens", prompt},
        {"time_to_first_token_s", result.time_to_first_token_s},
        {"prefill_tokens_per_s", result.prefill_tokens_per_s},
        {"new_tokens", result.ids.size()},
        {"decode_tokens_per_s", result.decode_tokens_per_s},
        {"decode_share_of_bound", result.decode_tokens_per_s / bound},
        {"decode_weight_gbs", result.decode_tokens_per_s * decode_bytes / 1e9},
        {"kv_cache_mb", kv_bytes / 1e6},
        {"peak_rss_mb", status_mb("VmHWM")},
        {"peak_rss_over_weights_and_kv_mb", status_mb("VmHWM") - (weight_bytes + kv_bytes) / 1048576.0}};
    std::cout << out.dump(2) << std::endl;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "bench_llm_decode: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
