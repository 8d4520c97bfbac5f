#pragma once
/// The LLaMA architecture settings, read from a Hugging Face `config.json` (transformers 4.28
/// `LlamaConfig` keys). Also accepts the conversation fixtures' config.json, whose `llm` object holds
/// the same keys (and `rope_base` for `rope_theta`).
///
/// Usage:
///   auto config = btadapter::llm::read_llama_config("vicuna-7b/config.json");
///   std::cout << config.hidden_size << " wide, head dim " << config.head_dim();
///
/// Thread safety: plain values and free functions.

#include <cstdint>
#include <string>

namespace btadapter::llm {

/// Architecture of a LlamaForCausalLM. Defaults are LLaMA-7B's.
struct LlamaConfig {
  int64_t vocab_size = 32000;               ///< rows of embed_tokens and lm_head
  int64_t hidden_size = 4096;               ///< model width D
  int64_t intermediate_size = 11008;        ///< MLP hidden size
  int64_t num_hidden_layers = 32;           ///< decoder layers
  int64_t num_attention_heads = 32;         ///< query heads; head_dim = hidden_size / heads
  int64_t num_key_value_heads = 32;         ///< key/value heads (grouped-query attention when fewer)
  int64_t max_position_embeddings = 2048;   ///< context length: prompt + generated tokens
  double rms_norm_eps = 1e-6;               ///< RMSNorm epsilon
  double rope_theta = 10000.0;              ///< rotary base
  int64_t bos_token_id = 1;                 ///< `<s>`
  int64_t eos_token_id = 2;                 ///< `</s>`
  int64_t pad_token_id = 0;                 ///< -1 when the config has none
  std::string torch_dtype = "float32";      ///< dtype the weights were saved in (informational)

  int64_t head_dim() const { return hidden_size / num_attention_heads; }

  /// Throws naming `source` and the offending key when a value is out of range or inconsistent
  /// (non-positive sizes, hidden_size not divisible by heads, odd head_dim, heads not a multiple of
  /// key/value heads, eps <= 0, ...).
  void validate(const std::string& source) const;
};

/// Parses a config.json text. Keys missing from the JSON keep LlamaConfig's defaults, except
/// hidden_size, intermediate_size, num_hidden_layers, num_attention_heads and vocab_size, which are
/// required. `num_key_value_heads` defaults to `num_attention_heads`. Unsupported features
/// (hidden_act other than "silu", tie_word_embeddings, rope_scaling, a non-llama model_type) are
/// refused. When the JSON has an object `llm` (the conversation fixtures), that object is read.
/// Errors name `source` and the key.
LlamaConfig parse_llama_config(const std::string& json_text, const std::string& source);

/// parse_llama_config of a file; errors name the path.
LlamaConfig read_llama_config(const std::string& path);

}  // namespace btadapter::llm
