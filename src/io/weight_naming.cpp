#include "btadapter/io/weight_naming.h"

#include <torch/torch.h>

#include <array>
#include <cctype>
#include <cstring>
#include <sstream>

namespace btadapter::io {
namespace {

/// How a rule's tensor changes when it is renamed.
enum class Kind {
  kRename,     ///< same values
  kTranspose,  ///< OpenAI [in,out] projection <-> HF [out,in] `.weight`
  kBlocks,     ///< transformer blocks: `{i}.<sub-name>` with the sub-name renamed by kOpenAIBlockNames
};

/// One renaming between a canonical name and a foreign one. A name ending in '.' or '_' is a prefix (the
/// rest of the key is carried over); any other name is a whole key.
struct Rule {
  const char* canonical;
  const char* foreign;
  Kind kind = Kind::kRename;
};

constexpr Rule kHuggingFaceRules[] = {
    {"backbone.class_embedding", "vision_model.embeddings.class_embedding"},
    {"backbone.patch_embedding.", "vision_model.embeddings.patch_embedding."},
    {"backbone.position_embedding.", "vision_model.embeddings.position_embedding."},
    {"backbone.pre_layrnorm.", "vision_model.pre_layrnorm."},
    {"backbone.layers.", "vision_model.encoder.layers."},
    {"backbone.post_layernorm.", "vision_model.post_layernorm."},
    {"backbone.visual_projection.", "visual_projection."},
    {"text_backbone.text_model.", "text_model."},
    {"text_backbone.text_projection.", "text_projection."},
};

constexpr Rule kOpenAIRules[] = {
    {"backbone.class_embedding", "visual.class_embedding"},
    {"backbone.patch_embedding.", "visual.conv1."},
    {"backbone.position_embedding.weight", "visual.positional_embedding"},
    {"backbone.pre_layrnorm.", "visual.ln_pre."},
    {"backbone.post_layernorm.", "visual.ln_post."},
    {"backbone.visual_projection.weight", "visual.proj", Kind::kTranspose},
    {"backbone.layers.", "visual.transformer.resblocks.", Kind::kBlocks},
    {"text_backbone.text_model.encoder.layers.", "transformer.resblocks.", Kind::kBlocks},
    {"text_backbone.text_model.embeddings.token_embedding.", "token_embedding."},
    {"text_backbone.text_model.embeddings.position_embedding.weight", "positional_embedding"},
    {"text_backbone.text_model.final_layer_norm.", "ln_final."},
    {"text_backbone.text_projection.weight", "text_projection", Kind::kTranspose},
};

/// Inside a block, after `{i}.` (HF sub-name, OpenAI sub-name). q/k/v are handled apart (split/stacked).
constexpr Rule kOpenAIBlockNames[] = {
    {"layer_norm1.", "ln_1."},
    {"layer_norm2.", "ln_2."},
    {"mlp.fc1.", "mlp.c_fc."},
    {"mlp.fc2.", "mlp.c_proj."},
    {"self_attn.out_proj.", "attn.out_proj."},
};
constexpr std::array<const char*, 3> kQkv = {"q", "k", "v"};

constexpr Rule kAdapterRules[] = {
    {"backbone.btadapter_", "btadapter_"},
    {"backbone.balance1", "balance1"},
    {"backbone.balance2", "balance2"},
};

/// Canonical top-level prefixes (the official recogniser's submodules).
constexpr const char* kCanonicalPrefixes[] = {"backbone.", "text_backbone.", "extra_proj."};

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// `key` renamed from `from` to `to` (prefix or whole-key semantics of Rule), or nullopt.
std::optional<std::string> rename(const std::string& key, const std::string& from, const std::string& to) {
  if (!from.empty() && (from.back() == '.' || from.back() == '_')) {
    if (starts_with(key, from)) return to + key.substr(from.size());
    return std::nullopt;
  }
  if (key == from) return to;
  return std::nullopt;
}

/// The first rule matching `key` on the foreign (or canonical) side, and the renamed key.
template <size_t N>
std::optional<std::pair<Rule, std::string>> match(const Rule (&rules)[N], const std::string& key, bool from_foreign) {
  for (const Rule& r : rules) {
    auto renamed = from_foreign ? rename(key, r.foreign, r.canonical) : rename(key, r.canonical, r.foreign);
    if (renamed) return std::make_pair(r, *renamed);
  }
  return std::nullopt;
}

/// Strips DDP/mmengine `module.` prefixes and renames the legacy `timesFPN` to `btadapter`.
std::string normalise(std::string key) {
  while (starts_with(key, "module.")) key.erase(0, 7);
  for (size_t pos; (pos = key.find("timesFPN")) != std::string::npos;) key.replace(pos, 8, "btadapter");
  return key;
}

bool is_dropped(const std::string& key) {
  return key == "logit_scale" || key == "input_resolution" || key == "context_length" || key == "vocab_size" ||
         key == "position_ids" || ends_with(key, ".position_ids");
}

bool is_canonical(const std::string& key) {
  for (const char* p : kCanonicalPrefixes) {
    if (starts_with(key, p)) return true;
  }
  return false;
}

/// Splits a block key remainder `{i}.<sub>` into ("{i}.", "<sub>"); nullopt when it has no layer index.
std::optional<std::pair<std::string, std::string>> split_block(const std::string& rest) {
  size_t dot = rest.find('.');
  if (dot == 0 || dot == std::string::npos) return std::nullopt;
  for (size_t i = 0; i < dot; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return std::nullopt;
  }
  return std::make_pair(rest.substr(0, dot + 1), rest.substr(dot + 1));
}

/// OpenAI block sub-name -> canonical tensors (one, or three for the stacked q/k/v).
std::optional<std::vector<std::pair<std::string, torch::Tensor>>> openai_block_to_canonical(
    const std::string& canonical_prefix, const std::string& sub, const torch::Tensor& t) {
  for (const char* kind : {"weight", "bias"}) {
    if (sub == std::string("attn.in_proj_") + kind) {
      TORCH_CHECK(t.dim() >= 1 && t.size(0) % 3 == 0, "OpenAI in_proj_", kind, " under '", canonical_prefix,
                  "' must stack q, k, v on dim 0, got shape ", t.sizes());
      auto chunks = t.chunk(3, 0);
      std::vector<std::pair<std::string, torch::Tensor>> out;
      for (size_t j = 0; j < 3; ++j) {
        out.emplace_back(canonical_prefix + "self_attn." + kQkv[j] + "_proj." + kind, chunks[j]);
      }
      return out;
    }
  }
  if (auto m = match(kOpenAIBlockNames, sub, /*from_foreign=*/true)) {
    return std::vector<std::pair<std::string, torch::Tensor>>{{canonical_prefix + m->second, t}};
  }
  return std::nullopt;
}

/// One foreign key -> canonical tensors; nullopt when unrecognised.
std::optional<std::vector<std::pair<std::string, torch::Tensor>>> key_to_canonical(const std::string& key,
                                                                                  const torch::Tensor& t) {
  using Out = std::vector<std::pair<std::string, torch::Tensor>>;
  if (is_canonical(key)) return Out{{key, t}};
  if (auto m = match(kAdapterRules, key, true)) return Out{{m->second, t}};
  if (auto m = match(kHuggingFaceRules, key, true)) return Out{{m->second, t}};
  auto m = match(kOpenAIRules, key, true);
  if (!m) return std::nullopt;
  switch (m->first.kind) {
    case Kind::kRename:
      return Out{{m->second, t}};
    case Kind::kTranspose:
      TORCH_CHECK(t.dim() == 2, "OpenAI projection '", key, "' must be 2-d, got shape ", t.sizes());
      return Out{{m->second, t.t().contiguous()}};
    case Kind::kBlocks: {
      auto block = split_block(key.substr(std::strlen(m->first.foreign)));
      if (!block) return std::nullopt;
      return openai_block_to_canonical(m->first.canonical + block->first, block->second, t);
    }
  }
  return std::nullopt;
}

/// Lists up to 20 names, then how many more.
std::string list_names(const std::vector<std::string>& names) {
  std::ostringstream out;
  for (size_t i = 0; i < names.size() && i < 20; ++i) out << (i ? ", " : "") << "'" << names[i] << "'";
  if (names.size() > 20) out << " and " << names.size() - 20 << " more";
  return out.str();
}

/// Canonical CLIP key -> one foreign tensor for HF or OpenAI, or nullopt for an unknown key.
/// For OpenAI q/k/v, the q key yields the stacked in_proj tensor and the k/v keys yield nothing.
std::optional<std::vector<std::pair<std::string, torch::Tensor>>> key_from_canonical(const std::string& key,
                                                                                    const TensorMap& canonical,
                                                                                    bool openai) {
  using Out = std::vector<std::pair<std::string, torch::Tensor>>;
  const torch::Tensor& t = canonical.at(key);
  if (!openai) {
    if (auto m = match(kHuggingFaceRules, key, false)) return Out{{m->second, t}};
    return std::nullopt;
  }
  auto m = match(kOpenAIRules, key, false);
  if (!m) return std::nullopt;
  if (m->first.kind == Kind::kRename) return Out{{m->second, t}};
  if (m->first.kind == Kind::kTranspose) return Out{{m->second, t.t().contiguous()}};
  auto block = split_block(key.substr(std::strlen(m->first.canonical)));
  if (!block) return std::nullopt;
  const std::string foreign_prefix = m->first.foreign + block->first;
  const std::string canonical_prefix = m->first.canonical + block->first;
  if (auto sub = match(kOpenAIBlockNames, block->second, false)) return Out{{foreign_prefix + sub->second, t}};
  // q, k and v are stacked into one in_proj tensor, emitted once (for q).
  for (const char* kind : {"weight", "bias"}) {
    auto qkv_name = [&](const char* which) { return canonical_prefix + "self_attn." + which + "_proj." + kind; };
    if (key != qkv_name("q") && key != qkv_name("k") && key != qkv_name("v")) continue;
    std::vector<torch::Tensor> parts;
    for (const char* which : kQkv) {
      auto it = canonical.find(qkv_name(which));
      TORCH_CHECK(it != canonical.end(), "cannot stack q, k, v into '", foreign_prefix, "attn.in_proj_", kind,
                  "': '", qkv_name(which), "' is missing");
      parts.push_back(it->second);
    }
    if (key != qkv_name("q")) return Out{};
    return Out{{foreign_prefix + "attn.in_proj_" + kind, torch::cat(parts, 0)}};
  }
  return std::nullopt;
}

TensorMap from_canonical(const TensorMap& canonical, TensorMap* adapter, double logit_scale, bool openai) {
  TensorMap out;
  std::vector<std::string> unknown;
  for (const auto& [key, t] : canonical) {
    if (is_adapter_key(key)) {
      if (adapter != nullptr) (*adapter)[key] = t;
      continue;
    }
    auto converted = key_from_canonical(key, canonical, openai);
    if (!converted) {
      unknown.push_back(key);
      continue;
    }
    for (auto& [name, value] : *converted) out[name] = value;
  }
  TORCH_CHECK(unknown.empty(), "cannot convert to ", openai ? "OpenAI" : "Hugging Face", " names: ",
              unknown.size(), " keys are not canonical CLIP keys: ", list_names(unknown));
  out["logit_scale"] = torch::tensor(static_cast<float>(logit_scale));
  return out;
}

}  // namespace

std::optional<WeightNaming> naming_of_key(const std::string& raw_key) {
  const std::string key = normalise(raw_key);
  if (is_dropped(key)) return std::nullopt;
  if (is_canonical(key)) return WeightNaming::kOfficial;
  if (match(kAdapterRules, key, true)) return WeightNaming::kAdapter;
  if (match(kHuggingFaceRules, key, true)) return WeightNaming::kHuggingFace;
  if (match(kOpenAIRules, key, true)) return WeightNaming::kOpenAI;
  return std::nullopt;
}

WeightNaming detect_naming(const TensorMap& tensors) {
  // extra_proj.* is spelled the same in official and adapter files, so it decides nothing on its own.
  std::map<WeightNaming, std::string> example;
  bool only_extra_proj = false;
  for (const auto& [key, t] : tensors) {
    auto naming = naming_of_key(key);
    if (!naming) continue;
    if (starts_with(normalise(key), "extra_proj.")) {
      only_extra_proj = true;
      continue;
    }
    example.emplace(*naming, key);
  }
  if (example.empty() && only_extra_proj) return WeightNaming::kOfficial;
  TORCH_CHECK(!example.empty(), "cannot detect the weight naming: none of the ", tensors.size(),
              " keys is an OpenAI, Hugging Face, official BT-Adapter or adapter name");
  if (example.size() > 1) {
    std::ostringstream kinds;
    for (const auto& [naming, key] : example) kinds << " " << enum_name(naming) << " ('" << key << "')";
    TORCH_CHECK(false, "weights mix several namings:", kinds.str());
  }
  return example.begin()->first;
}

TensorMap to_canonical(const TensorMap& tensors, std::vector<std::string>* dropped) {
  TensorMap out;
  std::map<std::string, std::string> source;  // canonical name -> the input key it came from
  std::vector<std::string> unknown;
  std::vector<std::string> clashes;
  for (const auto& [raw_key, t] : tensors) {
    const std::string key = normalise(raw_key);
    if (is_dropped(key)) {
      if (dropped != nullptr) dropped->push_back(raw_key);
      continue;
    }
    auto converted = key_to_canonical(key, t);
    if (!converted) {
      unknown.push_back(raw_key);
      continue;
    }
    for (auto& [name, value] : *converted) {
      auto [it, inserted] = source.emplace(name, raw_key);
      if (!inserted) clashes.push_back("'" + it->second + "' and '" + raw_key + "' both map to '" + name + "'");
      out[name] = value;
    }
  }
  TORCH_CHECK(unknown.empty(), unknown.size(), " weight keys are not OpenAI, Hugging Face, official BT-Adapter ",
              "or adapter names: ", list_names(unknown));
  TORCH_CHECK(clashes.empty(), "duplicate weights: ", clashes.front(),
              clashes.size() > 1 ? " (and " + std::to_string(clashes.size() - 1) + " more)" : std::string());
  return out;
}

bool is_adapter_key(const std::string& canonical_key) {
  for (const auto& prefix : adapter_key_prefixes()) {
    if (starts_with(canonical_key, prefix)) return true;
  }
  return false;
}

const std::vector<std::string>& adapter_key_prefixes() {
  static const std::vector<std::string> prefixes = {"backbone.btadapter_", "backbone.balance1",
                                                    "backbone.balance2", "extra_proj."};
  return prefixes;
}

TensorMap canonical_to_hf(const TensorMap& canonical, TensorMap* adapter, double logit_scale) {
  return from_canonical(canonical, adapter, logit_scale, /*openai=*/false);
}

TensorMap canonical_to_openai(const TensorMap& canonical, TensorMap* adapter, double logit_scale) {
  return from_canonical(canonical, adapter, logit_scale, /*openai=*/true);
}

}  // namespace btadapter::io
