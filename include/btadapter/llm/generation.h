#pragma once
/// Autoregressive generation with a KV cache, as transformers' `generate` runs the BT-Adapter video LLM
/// (`prepare_inputs_for_generation`): one prefill pass over the whole prompt (the spliced embeddings),
/// then one token per step from the cache, positions N, N+1, ...
///
/// Token choice per step, from the last logits in float32:
/// - temperature 0: greedy argmax;
/// - otherwise HF's sampling warpers in HF's order: logits / temperature, top-k (k > 0), top-p
///   (smallest set of most likely tokens whose probability reaches top_p, at least one kept), then a
///   draw from the softmax with a torch::Generator seeded by `seed` (never the global one), so a seed
///   reproduces its tokens.
/// Generation stops after max_new_tokens, on a stop id (kept as the last id, as HF keeps EOS), or when
/// the callback returns false (e.g. a caller-side stop-string check on the decoded text).
///
/// Usage:
///   llm::GenerationOptions options;
///   options.max_new_tokens(256).temperature(0.2).stop_token_ids({model->config().eos_token_id});
///   auto result = llm::generate(model, spliced, options, [&](int64_t id) { std::cout << piece(id); return true; });
///
/// Thread safety: runs the model on the calling thread; one call per model at a time is not required
/// (each call has its own cache), but LibTorch's threads are shared.

#include "btadapter/llm/llama.h"

#include <torch/arg.h>

#include <functional>
#include <string>
#include <vector>

namespace btadapter::llm {

/// Decoding settings.
struct GenerationOptions {
  /// Most tokens to generate; default 1024 (the official inference).
  TORCH_ARG(int64_t, max_new_tokens) = 1024;
  /// Sampling temperature; default 0 = greedy argmax.
  TORCH_ARG(double, temperature) = 0.0;
  /// Nucleus sampling mass in (0, 1]; default 1 (off).
  TORCH_ARG(double, top_p) = 1.0;
  /// Top-k filter when sampling, 0 = off; default 50 (transformers' generation default, which the
  /// official `generate(do_sample=True, temperature=0.2)` call uses).
  TORCH_ARG(int64_t, top_k) = 50;
  /// Seed of the sampling generator; default 0.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Ids that end generation (include EOS here); default none.
  TORCH_ARG(std::vector<int64_t>, stop_token_ids) = {};
  /// Keep each step's last logits (float32) in the result; default false.
  TORCH_ARG(bool, keep_step_logits) = false;
};

/// Why generation ended.
enum class StopReason { kMaxNewTokens, kStopToken, kCallback };

/// What generate returns.
struct GenerationResult {
  std::vector<int64_t> ids;         ///< generated ids (a stop id included as the last one)
  torch::Tensor step_logits;        ///< [G, V] float32 with keep_step_logits, else undefined
  StopReason stop_reason = StopReason::kMaxNewTokens;
  int64_t prompt_tokens = 0;        ///< N
  double time_to_first_token_s = 0; ///< prefill + the first choice
  double decode_seconds = 0;        ///< the steps after the first token
  double prefill_tokens_per_s = 0;  ///< N / time_to_first_token_s
  double decode_tokens_per_s = 0;   ///< (G - 1) / decode_seconds, 0 when G < 2
};

/// Called with each new id that is not a stop id (after it is appended to the result); return false
/// to stop.
using TokenCallback = std::function<bool(int64_t id)>;

/// Generates from prompt_embeds [1, N, D] (model dtype and device). Runs under NoGradGuard. Refuses,
/// naming the numbers, a prompt + max_new_tokens longer than the context (max_position_embeddings),
/// and invalid options (temperature < 0, top_p outside (0, 1], top_k < 0, max_new_tokens < 1).
GenerationResult generate(LlamaForCausalLM& model, const torch::Tensor& prompt_embeds,
                          const GenerationOptions& options, const TokenCallback& on_token = {});

/// One HF-style token choice from logits [V] (float32) with `options`' temperature / top-k / top-p,
/// drawing from `generator` when sampling. Exposed for tests and custom loops.
int64_t choose_token(const torch::Tensor& logits, const GenerationOptions& options, torch::Generator& generator);

}  // namespace btadapter::llm
