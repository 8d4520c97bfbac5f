#include "btadapter/llm/generation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace btadapter::llm {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check_options(const GenerationOptions& o) {
  TORCH_CHECK(o.max_new_tokens() >= 1, "generate: expected max_new_tokens >= 1, got ", o.max_new_tokens());
  TORCH_CHECK(o.temperature() >= 0, "generate: expected temperature >= 0 (0 = greedy), got ", o.temperature());
  TORCH_CHECK(o.top_p() > 0 && o.top_p() <= 1, "generate: expected top_p in (0, 1], got ", o.top_p());
  TORCH_CHECK(o.top_k() >= 0, "generate: expected top_k >= 0 (0 = off), got ", o.top_k());
}

}  // namespace

int64_t choose_token(const torch::Tensor& logits, const GenerationOptions& options, torch::Generator& generator) {
  TORCH_CHECK(logits.dim() == 1, "choose_token: expected logits [V], got ", logits.sizes());
  auto scores = logits.to(torch::kCPU, torch::kFloat);
  if (options.temperature() == 0) return scores.argmax().item<int64_t>();
  const float lowest = -std::numeric_limits<float>::infinity();
  scores = scores / options.temperature();
  if (options.top_k() > 0 && options.top_k() < scores.size(0)) {
    // TopKLogitsWarper: everything below the k-th largest score is removed.
    const auto kth = std::get<0>(scores.topk(options.top_k())).select(0, -1);
    scores = scores.masked_fill(scores < kth, lowest);
  }
  if (options.top_p() < 1) {
    // TopPLogitsWarper: ascending sort; drop the tokens whose cumulative probability is <= 1 - top_p,
    // always keeping the most likely one.
    const auto [sorted, order] = scores.sort(/*dim=*/0, /*descending=*/false);
    const auto cumulative = sorted.softmax(0).cumsum(0);
    auto remove = cumulative <= (1 - options.top_p());
    remove[-1] = false;
    scores = scores.masked_fill(remove.scatter(0, order, remove), lowest);
  }
  const auto probs = scores.softmax(0);
  return torch::multinomial(probs, 1, /*replacement=*/false, generator).item<int64_t>();
}

GenerationResult generate(LlamaForCausalLM& model, const torch::Tensor& prompt_embeds,
                          const GenerationOptions& options, const TokenCallback& on_token) {
  check_options(options);
  const auto& config = model->config();
  TORCH_CHECK(prompt_embeds.dim() == 3 && prompt_embeds.size(0) == 1,
              "generate: expected prompt_embeds [1, N, D] (one sequence), got ", prompt_embeds.sizes());
  const int64_t n = prompt_embeds.size(1);
  // The last generated token is never fed back, so the cache needs N + max_new_tokens - 1 positions.
  const int64_t needed = n + options.max_new_tokens() - 1;
  TORCH_CHECK(needed <= config.max_position_embeddings, "generate: a prompt of ", n, " tokens + max_new_tokens ",
              options.max_new_tokens(), " needs ", needed, " positions, more than the model's context of ",
              config.max_position_embeddings, " (max_position_embeddings)");
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed());
  KVCache cache(config, 1, needed, model->tensor_options());
  GenerationResult result;
  result.prompt_tokens = n;
  std::vector<torch::Tensor> step_logits;
  const auto start = std::chrono::steady_clock::now();
  auto decode_start = start;
  auto embeds = prompt_embeds;
  for (int64_t step = 0; step < options.max_new_tokens(); ++step) {
    const auto logits = model->forward(embeds, &cache, LlamaForwardOptions().last_logits_only(true)).logits[0][-1];
    if (options.keep_step_logits()) step_logits.push_back(logits.to(torch::kCPU, torch::kFloat));
    const int64_t id = choose_token(logits, options, generator);
    result.ids.push_back(id);
    if (step == 0) {
      result.time_to_first_token_s = seconds_since(start);
      decode_start = std::chrono::steady_clock::now();
    }
    const auto& stops = options.stop_token_ids();
    if (std::find(stops.begin(), stops.end(), id) != stops.end()) {
      result.stop_reason = StopReason::kStopToken;
      break;
    }
    if (on_token && !on_token(id)) {
      result.stop_reason = StopReason::kCallback;
      break;
    }
    if (step + 1 < options.max_new_tokens()) {
      embeds = model->embed(torch::full({1, 1}, id, torch::TensorOptions().dtype(torch::kLong)));
    }
  }
  result.decode_seconds = result.ids.size() > 1 ? seconds_since(decode_start) : 0.0;
  result.prefill_tokens_per_s = n / result.time_to_first_token_s;
  result.decode_tokens_per_s =
      result.ids.size() > 1 ? static_cast<double>(result.ids.size() - 1) / result.decode_seconds : 0.0;
  if (options.keep_step_logits()) result.step_logits = torch::stack(step_logits, 0);
  return result;
}

}  // namespace btadapter::llm
