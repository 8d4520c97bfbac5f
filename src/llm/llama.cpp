#include "btadapter/llm/llama.h"

#include <torch/torch.h>

namespace btadapter::llm {
namespace {

const LlamaOptions& checked(const LlamaOptions& options) {
  options.config().validate("LlamaOptions");
  TORCH_CHECK(options.dtype() == torch::kFloat || options.dtype() == torch::kBFloat16 ||
                  options.dtype() == torch::kHalf,
              "LlamaForCausalLM: expected dtype float32, bfloat16 or float16, got ", options.dtype());
  TORCH_CHECK(options.dtype() != torch::kHalf || options.device().is_cuda(),
              "LlamaForCausalLM: float16 needs a CUDA device (LibTorch's CPU kernels lack float16 matrix "
              "products); use bfloat16 or float32 on ", options.device());
  return options;
}

}  // namespace

LlamaModelImpl::LlamaModelImpl(const LlamaOptions& options) {
  const auto t = torch::TensorOptions().dtype(options.dtype()).device(options.device());
  const auto& c = options.config();
  embed_tokens = register_module("embed_tokens", LlamaEmbedding(c.vocab_size, c.hidden_size, t));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(LlamaDecoderLayer(options));
  norm = register_module("norm", LlamaRMSNorm(c.hidden_size, c.rms_norm_eps, t));
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const LlamaOptions& options) : options_(checked(options)) {
  const auto& c = config();
  model = register_module("model", LlamaModel(options_));
  lm_head = register_module("lm_head", LlamaProjection(c.hidden_size, c.vocab_size, tensor_options(),
                                                       options_.fast_cpu_bf16()));
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    // transformers' _init_weights: normal(0, initializer_range = 0.02) for matrices; norms start at 1.
    if (options_.init_weights() && item.value().dim() == 2) item.value().normal_(0.0, 0.02);
    item.value().set_requires_grad(options_.requires_grad());
  }
}

torch::TensorOptions LlamaForCausalLMImpl::tensor_options() const {
  return torch::TensorOptions().dtype(options_.dtype()).device(options_.device());
}

torch::Tensor LlamaForCausalLMImpl::embed(const torch::Tensor& ids) {
  TORCH_CHECK(ids.dim() == 2, "LlamaForCausalLM::embed: expected ids [B, N], got ", ids.sizes());
  return model->embed_tokens(ids);
}

RotaryTables LlamaForCausalLMImpl::rotary(int64_t start, int64_t length, const torch::TensorOptions& options) const {
  // As transformers computes them: float32 inv_freq and angles, cos/sin cast to the model dtype.
  const int64_t d = config().head_dim();
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(options.device());
  const auto inv_freq = torch::reciprocal(torch::pow(config().rope_theta, torch::arange(0, d, 2, f32) / d));
  const auto positions = torch::arange(start, start + length, f32);
  const auto angles = torch::outer(positions, inv_freq);
  const auto emb = torch::cat({angles, angles}, -1);
  return {emb.cos().to(options.dtype()), emb.sin().to(options.dtype())};
}

LlamaOutput LlamaForCausalLMImpl::forward(const torch::Tensor& embeds, KVCache* cache,
                                          const LlamaForwardOptions& options) {
  const auto& c = config();
  TORCH_CHECK(embeds.dim() == 3 && embeds.size(2) == c.hidden_size && embeds.size(1) > 0,
              "LlamaForCausalLM: expected embeds [B, N >= 1, ", c.hidden_size, "], got ", embeds.sizes());
  TORCH_CHECK(embeds.scalar_type() == options_.dtype() && embeds.device() == options_.device(),
              "LlamaForCausalLM: expected embeds in ", options_.dtype(), " on ", options_.device(), ", got ",
              embeds.scalar_type(), " on ", embeds.device());
  const int64_t n = embeds.size(1), past = cache ? cache->length() : 0;
  TORCH_CHECK(past + n <= c.max_position_embeddings, "LlamaForCausalLM: ", past, " cached + ", n, " new tokens = ",
              past + n, " positions exceed the model's context of ", c.max_position_embeddings,
              " (max_position_embeddings)");
  if (cache) {
    TORCH_CHECK(cache->num_layers() == c.num_hidden_layers && cache->batch() == embeds.size(0),
                "LlamaForCausalLM: expected a cache of ", c.num_hidden_layers, " layers and batch ", embeds.size(0),
                ", got ", cache->num_layers(), " layers and batch ", cache->batch());
    cache->check_room(n);
  }
  const auto tables = rotary(past, n, embeds.options());
  LlamaOutput out;
  auto h = embeds;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    if (options.output_hidden_states()) out.hidden_states.push_back(h);
    h = model->layers[i]->as<LlamaDecoderLayer>()->forward(h, tables, cache, i);
  }
  h = model->norm(h);
  if (options.output_hidden_states()) out.hidden_states.push_back(h);
  if (cache) cache->advance(n);
  out.logits = lm_head(options.last_logits_only() ? h.narrow(1, n - 1, 1) : h);
  return out;
}

}  // namespace btadapter::llm
