#pragma once
/// The LLaMA decoder with the semantics of transformers 4.28 `LlamaForCausalLM`, as the BT-Adapter
/// video LLM (Video-ChatGPT / LLaVA v1) runs it. Registered names are Hugging Face's, so
/// `named_parameters()` gives the checkpoint keys: `model.embed_tokens.weight`,
/// `model.layers.{i}.self_attn.{q,k,v,o}_proj.weight`, `model.layers.{i}.mlp.{gate,up,down}_proj.weight`,
/// `model.layers.{i}.{input,post_attention}_layernorm.weight`, `model.norm.weight`, `lm_head.weight`.
///
///   h = x + o_proj(attention(rotary(q_proj(n)), rotary(k_proj(n)), v_proj(n)))   n = input_layernorm(x)
///   y = h + down_proj(silu(gate_proj(m)) * up_proj(m))                          m = post_attention_layernorm(h)
///   logits = lm_head(norm(y_last))
///
/// - RMSNorm x * rsqrt(mean(x^2) + eps) * weight, the mean in float32, cast back before the weight.
/// - Rotary on the full head dim: inv_freq = 1 / theta^(arange(0, d, 2) / d), angles position * inv_freq
///   in float32, cos/sin cast to the model dtype, q cos + rotate_half(q) sin, rotate_half(x) =
///   cat(-x[d/2:], x[:d/2]). Keys are cached after rotation.
/// - Causal attention: scores q k^T / sqrt(d) plus a finfo(dtype).min causal mask, softmax in float32.
///   Grouped-query attention when num_key_value_heads < num_attention_heads (query head h reads
///   key/value head h / (heads / kv_heads)).
/// - No biases; lm_head is not tied to embed_tokens.
///
/// Usage:
///   auto model = llm::load_llama("vicuna-7b");                        // hf_checkpoint.h
///   auto embeds = model->embed(input_ids);                            // [1, N, D]
///   llm::KVCache cache(model->config(), 1, N + 64, model->tensor_options());
///   auto out = model->forward(embeds, &cache);                        // prefill, positions 0..N-1
///   auto next = out.logits.select(1, -1).argmax(-1, true);            // [1, 1]
///   out = model->forward(model->embed(next), &cache);                 // position N
///
/// Autograd: parameters are frozen (requires_grad false) unless LlamaOptions::requires_grad, and no
/// graph is built unless an input requires grad; gradients then flow through the frozen model into the
/// embeddings (instruction tuning backpropagates into the spliced video features). Use the uncached
/// forward for training.
///
/// Devices and dtypes: float32 and bfloat16 on CPU and CUDA; float16 on CUDA only (CPU refuses it).
/// bfloat16 on a CPU without autograd runs its projections and attention on AVX-512 BF16 / oneDNN
/// kernels (see LlamaOptions::fast_cpu_bf16).
///
/// Thread safety: forward() does not mutate the module (only the cache it is given).

#include "btadapter/config/llama_config.h"
#include "btadapter/llm/kv_cache.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace btadapter::llm {

/// Options of LlamaForCausalLM and its parts.
struct LlamaOptions {
  explicit LlamaOptions(LlamaConfig config) : config_(std::move(config)) {}
  /// The architecture (validated by the constructor).
  TORCH_ARG(LlamaConfig, config);
  /// Parameter dtype; default float32. float16 needs a CUDA device.
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat;
  /// Device the parameters are allocated on; default CPU.
  TORCH_ARG(torch::Device, device) = torch::Device(torch::kCPU);
  /// Initialise like transformers (normal(0, 0.02) matrices, unit norms); default true. false leaves
  /// the parameters uninitialised, for loaders that overwrite every one (hf_checkpoint.h).
  TORCH_ARG(bool, init_weights) = true;
  /// Parameters require grad; default false (the LLM is frozen in BT-Adapter's training).
  TORCH_ARG(bool, requires_grad) = false;
  /// bfloat16 CPU inference on the AVX-512 BF16 GEMV kernel (one-row products: decoding) or oneDNN's bf16
  /// GEMM (a few rows), and per-head attention on oneDNN; default true. false: ATen for everything.
  TORCH_ARG(bool, fast_cpu_bf16) = true;
};

/// Per-call settings of LlamaForCausalLM::forward.
struct LlamaForwardOptions {
  /// Also return the hidden states (HF output_hidden_states convention); default false.
  TORCH_ARG(bool, output_hidden_states) = false;
  /// Logits of the last position only ([B, 1, V]); default false (all positions).
  TORCH_ARG(bool, last_logits_only) = false;
};

/// What forward returns.
struct LlamaOutput {
  /// [B, N, V] (or [B, 1, V]) in the model dtype.
  torch::Tensor logits;
  /// With output_hidden_states: num_hidden_layers + 1 tensors [B, N, D]: the input embeddings, the
  /// output of each layer but the last, and the last layer's output after `model.norm`.
  std::vector<torch::Tensor> hidden_states;
};

/// RMSNorm over the last dimension.
class LlamaRMSNormImpl : public torch::nn::Module {
 public:
  LlamaRMSNormImpl(int64_t dim, double eps, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(LlamaRMSNorm);

/// A bias-free linear layer x W^T (W [out, in]) on the fast CPU bf16 path when it applies.
class LlamaProjectionImpl : public torch::nn::Module {
 public:
  LlamaProjectionImpl(int64_t in, int64_t out, const torch::TensorOptions& options, bool fast_cpu_bf16);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  bool fast_cpu_bf16_;
};
TORCH_MODULE(LlamaProjection);

/// The token embedding table [V, D].
class LlamaEmbeddingImpl : public torch::nn::Module {
 public:
  LlamaEmbeddingImpl(int64_t vocab, int64_t dim, const torch::TensorOptions& options);
  /// ids [...] int64 -> [..., D]; ids outside [0, V) are an error naming the id.
  torch::Tensor forward(const torch::Tensor& ids);
  torch::Tensor weight;
};
TORCH_MODULE(LlamaEmbedding);

/// Rotary tables for one forward: cos and sin [N, head_dim] in the model dtype.
struct RotaryTables {
  torch::Tensor cos, sin;
};

/// Self-attention with rotary positions and an optional cache.
class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const LlamaOptions& options);
  /// x [B, N, D]; with a cache the keys/values of positions cache->length() .. + N-1 are appended to
  /// layer `layer` (the cache length is advanced by the caller).
  torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rotary, KVCache* cache, int64_t layer);

  LlamaProjection q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t heads_, kv_heads_, head_dim_;
  bool fast_cpu_bf16_;
};
TORCH_MODULE(LlamaAttention);

/// down_proj(silu(gate_proj(x)) * up_proj(x)).
class LlamaMLPImpl : public torch::nn::Module {
 public:
  explicit LlamaMLPImpl(const LlamaOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  LlamaProjection gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMLP);

/// One pre-norm decoder layer.
class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit LlamaDecoderLayerImpl(const LlamaOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rotary, KVCache* cache, int64_t layer);
  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  LlamaRMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

/// embed_tokens, layers, norm (HF `LlamaModel`).
class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const LlamaOptions& options);
  LlamaEmbedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  LlamaRMSNorm norm{nullptr};
};
TORCH_MODULE(LlamaModel);

/// The causal LM: `model` + `lm_head`.
class LlamaForCausalLMImpl : public torch::nn::Module {
 public:
  explicit LlamaForCausalLMImpl(const LlamaOptions& options);

  /// Token embeddings: ids [B, N] int64 -> [B, N, D] in the model dtype.
  torch::Tensor embed(const torch::Tensor& ids);

  /// embeds [B, N, D] (model dtype and device) -> logits. Without a cache: positions 0..N-1, attention
  /// over these N tokens. With one: positions cache->length() .. + N-1, attention over the cached
  /// tokens and these, which are appended; the cache length grows by N. A forward past the cache
  /// capacity or past max_position_embeddings is refused naming the numbers, before any work.
  LlamaOutput forward(const torch::Tensor& embeds, KVCache* cache = nullptr,
                      const LlamaForwardOptions& options = {});

  const LlamaConfig& config() const { return options_.config(); }
  const LlamaOptions& options() const { return options_; }
  /// dtype and device of the parameters (for caches and inputs).
  torch::TensorOptions tensor_options() const;

  LlamaModel model{nullptr};
  LlamaProjection lm_head{nullptr};

 private:
  RotaryTables rotary(int64_t start, int64_t length, const torch::TensorOptions& options) const;
  LlamaOptions options_;
};
TORCH_MODULE(LlamaForCausalLM);

}  // namespace btadapter::llm
