#include "btadapter/config/llama_config.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace btadapter::llm {
namespace {

using nlohmann::json;

int64_t integer_key(const json& j, const char* key, int64_t fallback, bool required, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) {
    TORCH_CHECK(!required, source, ": missing required key '", key, "'");
    return fallback;
  }
  TORCH_CHECK(j[key].is_number_integer(), source, ": expected '", key, "' to be an integer, got ", j[key].dump());
  return j[key].get<int64_t>();
}

double number_key(const json& j, const char* key, double fallback, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  TORCH_CHECK(j[key].is_number(), source, ": expected '", key, "' to be a number, got ", j[key].dump());
  return j[key].get<double>();
}

}  // namespace

void LlamaConfig::validate(const std::string& source) const {
  const std::pair<const char*, int64_t> positive[] = {
      {"vocab_size", vocab_size},
      {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"num_key_value_heads", num_key_value_heads},
      {"max_position_embeddings", max_position_embeddings}};
  for (const auto& [key, value] : positive) {
    TORCH_CHECK(value > 0, source, ": expected '", key, "' > 0, got ", value);
  }
  TORCH_CHECK(hidden_size % num_attention_heads == 0, source, ": expected 'hidden_size' (", hidden_size,
              ") divisible by 'num_attention_heads' (", num_attention_heads, ")");
  TORCH_CHECK(head_dim() % 2 == 0, source, ": expected an even head dim (rotary pairs), got hidden_size / "
              "num_attention_heads = ", head_dim());
  TORCH_CHECK(num_attention_heads % num_key_value_heads == 0, source, ": expected 'num_attention_heads' (",
              num_attention_heads, ") to be a multiple of 'num_key_value_heads' (", num_key_value_heads, ")");
  TORCH_CHECK(rms_norm_eps > 0, source, ": expected 'rms_norm_eps' > 0, got ", rms_norm_eps);
  TORCH_CHECK(rope_theta > 0, source, ": expected 'rope_theta' > 0, got ", rope_theta);
  for (const auto& [key, id] : {std::pair<const char*, int64_t>{"bos_token_id", bos_token_id},
                                {"eos_token_id", eos_token_id}}) {
    TORCH_CHECK(id >= 0 && id < vocab_size, source, ": expected '", key, "' in [0, vocab_size = ", vocab_size,
                "), got ", id);
  }
  TORCH_CHECK(pad_token_id >= -1 && pad_token_id < vocab_size, source, ": expected 'pad_token_id' in [-1, ",
              vocab_size, "), got ", pad_token_id);
}

LlamaConfig parse_llama_config(const std::string& json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    TORCH_CHECK(false, source, ": invalid JSON (", e.what(), ")");
  }
  TORCH_CHECK(root.is_object(), source, ": expected a JSON object");
  const json& j = root.contains("llm") && root["llm"].is_object() ? root["llm"] : root;
  if (j.contains("model_type") && j["model_type"].is_string()) {
    TORCH_CHECK(j["model_type"] == "llama", source, ": expected 'model_type' \"llama\", got ", j["model_type"].dump());
  }
  if (j.contains("hidden_act")) {
    TORCH_CHECK(j["hidden_act"] == "silu", source, ": expected 'hidden_act' \"silu\", got ", j["hidden_act"].dump());
  }
  TORCH_CHECK(!j.value("tie_word_embeddings", false), source,
              ": 'tie_word_embeddings' true is not supported (LLaMA's lm_head is a separate matrix)");
  TORCH_CHECK(!j.contains("rope_scaling") || j["rope_scaling"].is_null(), source,
              ": 'rope_scaling' is not supported, got ", j.contains("rope_scaling") ? j["rope_scaling"].dump() : "");

  LlamaConfig c;
  c.vocab_size = integer_key(j, "vocab_size", c.vocab_size, true, source);
  c.hidden_size = integer_key(j, "hidden_size", c.hidden_size, true, source);
  c.intermediate_size = integer_key(j, "intermediate_size", c.intermediate_size, true, source);
  c.num_hidden_layers = integer_key(j, "num_hidden_layers", c.num_hidden_layers, true, source);
  c.num_attention_heads = integer_key(j, "num_attention_heads", c.num_attention_heads, true, source);
  c.num_key_value_heads = integer_key(j, "num_key_value_heads", c.num_attention_heads, false, source);
  c.max_position_embeddings = integer_key(j, "max_position_embeddings", c.max_position_embeddings, false, source);
  c.rms_norm_eps = number_key(j, "rms_norm_eps", c.rms_norm_eps, source);
  c.rope_theta = number_key(j, "rope_theta", number_key(j, "rope_base", c.rope_theta, source), source);
  c.bos_token_id = integer_key(j, "bos_token_id", c.bos_token_id, false, source);
  c.eos_token_id = integer_key(j, "eos_token_id", c.eos_token_id, false, source);
  c.pad_token_id = integer_key(j, "pad_token_id", -1, false, source);
  if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"].get<std::string>();
  c.validate(source);
  return c;
}

LlamaConfig read_llama_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "cannot open the LLaMA config '", path, "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_llama_config(text.str(), path);
}

}  // namespace btadapter::llm
