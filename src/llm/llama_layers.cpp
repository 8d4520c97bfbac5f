// The parts of the LLaMA decoder (llama.h); the model and the causal LM are in llama.cpp.
#include "btadapter/llm/llama.h"

#include "btadapter/model/batched_matmul.h"
#include "btadapter/model/linear.h"
#include "llm/cpu_kernels.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace btadapter::llm {
namespace {

torch::Tensor rotate_half(const torch::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// x [B, heads, N, d] with the tables [N, d].
torch::Tensor apply_rotary(const torch::Tensor& x, const RotaryTables& rotary) {
  return x * rotary.cos + rotate_half(x) * rotary.sin;
}

// [B, kv_heads, L, d] -> [B, kv_heads * group, L, d], each key/value head repeated for its query heads.
torch::Tensor repeat_kv(const torch::Tensor& x, int64_t group) {
  if (group == 1) return x;
  const auto s = x.sizes();
  return x.unsqueeze(2).expand({s[0], s[1], group, s[2], s[3]}).reshape({s[0], s[1] * group, s[2], s[3]});
}

// q k^T, on the direct BLAS path for float32 CPU tensors (differentiable).
torch::Tensor scores_of(const torch::Tensor& q, const torch::Tensor& k) {
  if (q.device().is_cpu() && q.scalar_type() == torch::kFloat) return batched_matmul(q, k.transpose(2, 3));
  return torch::matmul(q, k.transpose(2, 3));
}

torch::Tensor mix_of(const torch::Tensor& probs, const torch::Tensor& v) {
  if (probs.device().is_cpu() && probs.scalar_type() == torch::kFloat) return batched_matmul(probs, v);
  return torch::matmul(probs, v);
}

}  // namespace

LlamaRMSNormImpl::LlamaRMSNormImpl(int64_t dim, double eps, const torch::TensorOptions& options) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}, options));
}

torch::Tensor LlamaRMSNormImpl::forward(const torch::Tensor& x) {
  const auto x32 = x.to(torch::kFloat);
  const auto variance = x32.pow(2).mean(-1, true);
  return weight * (x32 * torch::rsqrt(variance + eps_)).to(weight.scalar_type());
}

LlamaProjectionImpl::LlamaProjectionImpl(int64_t in, int64_t out, const torch::TensorOptions& options,
                                         bool fast_cpu_bf16)
    : fast_cpu_bf16_(fast_cpu_bf16) {
  weight = register_parameter("weight", torch::empty({out, in}, options));
}

torch::Tensor LlamaProjectionImpl::forward(const torch::Tensor& x) {
  if (fast_cpu_bf16_ && detail::fast_bf16_applies(x, weight)) return detail::project_bf16(x, weight);
  return linear(x, weight, torch::Tensor());
}

LlamaEmbeddingImpl::LlamaEmbeddingImpl(int64_t vocab, int64_t dim, const torch::TensorOptions& options) {
  weight = register_parameter("weight", torch::empty({vocab, dim}, options));
}

torch::Tensor LlamaEmbeddingImpl::forward(const torch::Tensor& ids) {
  TORCH_CHECK(ids.scalar_type() == torch::kLong, "embed: expected int64 token ids, got ", ids.scalar_type());
  if (ids.numel() > 0) {
    const int64_t low = ids.min().item<int64_t>(), high = ids.max().item<int64_t>();
    TORCH_CHECK(low >= 0 && high < weight.size(0), "embed: expected token ids in [0, ", weight.size(0), "), got ",
                low < 0 ? low : high);
  }
  return torch::embedding(weight, ids.to(weight.device()));
}

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaOptions& options)
    : heads_(options.config().num_attention_heads),
      kv_heads_(options.config().num_key_value_heads),
      head_dim_(options.config().head_dim()),
      fast_cpu_bf16_(options.fast_cpu_bf16()) {
  const auto t = torch::TensorOptions().dtype(options.dtype()).device(options.device());
  const int64_t width = options.config().hidden_size, kv_width = kv_heads_ * head_dim_;
  q_proj = register_module("q_proj", LlamaProjection(width, heads_ * head_dim_, t, fast_cpu_bf16_));
  k_proj = register_module("k_proj", LlamaProjection(width, kv_width, t, fast_cpu_bf16_));
  v_proj = register_module("v_proj", LlamaProjection(width, kv_width, t, fast_cpu_bf16_));
  o_proj = register_module("o_proj", LlamaProjection(heads_ * head_dim_, width, t, fast_cpu_bf16_));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const RotaryTables& rotary, KVCache* cache,
                                          int64_t layer) {
  const int64_t batch = x.size(0), n = x.size(1);
  const auto heads_of = [&](const torch::Tensor& t, int64_t heads) {
    return t.view({batch, n, heads, head_dim_}).transpose(1, 2);
  };
  const auto q = apply_rotary(heads_of(q_proj(x), heads_), rotary);
  auto k = apply_rotary(heads_of(k_proj(x), kv_heads_), rotary);
  auto v = heads_of(v_proj(x), kv_heads_);
  if (cache) std::tie(k, v) = cache->append(layer, k, v);
  torch::Tensor mixed;
  if (fast_cpu_bf16_ && detail::fast_bf16_applies(q, k)) {
    const auto kc = k.stride(2) == head_dim_ && k.stride(3) == 1 ? k : k.contiguous();
    const auto vc = v.stride(2) == head_dim_ && v.stride(3) == 1 ? v : v.contiguous();
    mixed = detail::attend_bf16(q, kc, vc, 1.0 / std::sqrt(static_cast<double>(head_dim_)));
  } else {
    const int64_t group = heads_ / kv_heads_, length = k.size(2);
    auto scores = scores_of(q, repeat_kv(k, group)) / std::sqrt(static_cast<double>(head_dim_));
    if (n > 1) {
      // transformers' causal mask: finfo(dtype).min above the diagonal (shifted by the cached length),
      // added, then the sum clamped below at finfo.min.
      const double lowest = scores.scalar_type() == torch::kBFloat16 ? -3.3895313892515355e38
                            : scores.scalar_type() == torch::kHalf   ? -65504.0
                                                                     : std::numeric_limits<float>::lowest();
      const auto causal = torch::ones({n, length}, torch::TensorOptions().dtype(torch::kBool).device(x.device()))
                              .triu(length - n + 1);
      const auto mask = torch::zeros({n, length}, scores.options().requires_grad(false)).masked_fill(causal, lowest);
      scores = torch::clamp_min(scores + mask, lowest);
    }
    const auto probs = torch::softmax(scores, -1, torch::kFloat).to(q.scalar_type());
    mixed = mix_of(probs, repeat_kv(v, group));
  }
  return o_proj(mixed.transpose(1, 2).reshape({batch, n, heads_ * head_dim_}));
}

LlamaMLPImpl::LlamaMLPImpl(const LlamaOptions& options) {
  const auto t = torch::TensorOptions().dtype(options.dtype()).device(options.device());
  const int64_t width = options.config().hidden_size, hidden = options.config().intermediate_size;
  gate_proj = register_module("gate_proj", LlamaProjection(width, hidden, t, options.fast_cpu_bf16()));
  up_proj = register_module("up_proj", LlamaProjection(width, hidden, t, options.fast_cpu_bf16()));
  down_proj = register_module("down_proj", LlamaProjection(hidden, width, t, options.fast_cpu_bf16()));
}

torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x) {
  return down_proj(torch::silu(gate_proj(x)) * up_proj(x));
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaOptions& options) {
  const auto t = torch::TensorOptions().dtype(options.dtype()).device(options.device());
  const auto& c = options.config();
  self_attn = register_module("self_attn", LlamaAttention(options));
  mlp = register_module("mlp", LlamaMLP(options));
  input_layernorm = register_module("input_layernorm", LlamaRMSNorm(c.hidden_size, c.rms_norm_eps, t));
  post_attention_layernorm =
      register_module("post_attention_layernorm", LlamaRMSNorm(c.hidden_size, c.rms_norm_eps, t));
}

torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x, const RotaryTables& rotary, KVCache* cache,
                                             int64_t layer) {
  const auto h = x + self_attn->forward(input_layernorm(x), rotary, cache, layer);
  return h + mlp(post_attention_layernorm(h));
}

}  // namespace btadapter::llm
