#include "btadapter/config/model_config.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <set>

namespace btadapter {
namespace {

using nlohmann::json;

// Reads the fields of one JSON object, remembering which keys were consumed so that leftovers
// (typos, keys from another version) are reported instead of silently ignored.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    TORCH_CHECK(object_.is_object(), "model config: expected an object at '", path_, "', got ",
                object_.type_name());
  }

  template <typename T>
  void read(const char* key, T& field) {
    used_.insert(key);
    auto it = object_.find(key);
    if (it == object_.end()) return;
    try {
      field = it->get<T>();
    } catch (const json::exception&) {
      TORCH_CHECK(false, "model config: key '", path_, key, "' has the wrong type (", it->type_name(), ")");
    }
  }

  template <typename E>
  void read_enum(const char* key, E& field, E (*parse)(const std::string&)) {
    std::string name;
    bool present = object_.contains(key);
    read(key, name);
    if (present) field = parse(name);
  }

  const json& child(const char* key) {
    used_.insert(key);
    static const json kEmpty = json::object();
    auto it = object_.find(key);
    return it == object_.end() ? kEmpty : *it;
  }

  void finish() const {
    for (const auto& item : object_.items()) {
      TORCH_CHECK(used_.count(item.key()), "model config: unknown key '", path_, item.key(), "'");
    }
  }

 private:
  const json& object_;
  std::string path_;
  std::set<std::string> used_;
};

json to_json(const VisionConfig& c) {
  return {{"width", c.width}, {"layers", c.layers}, {"heads", c.heads}, {"patch_size", c.patch_size},
          {"image_size", c.image_size}, {"mlp_dim", c.mlp_dim}, {"layer_norm_eps", c.layer_norm_eps}};
}

json to_json(const TextConfig& c) {
  return {{"vocab_size", c.vocab_size}, {"width", c.width}, {"layers", c.layers}, {"heads", c.heads},
          {"context_length", c.context_length}, {"mlp_dim", c.mlp_dim},
          {"layer_norm_eps", c.layer_norm_eps}, {"pooling", to_string(c.pooling)}, {"eos_id", c.eos_id}};
}

json to_json(const AdapterConfig& c) {
  return {{"depth", c.depth}, {"fusion", to_string(c.fusion)}, {"out_norm", c.out_norm},
          {"middle_norm", c.middle_norm}, {"max_frames", c.max_frames}, {"drop_path", c.drop_path},
          {"mask_layout", to_string(c.mask_layout)}, {"mask_ratio", c.mask_ratio}};
}

json to_json(const TokenizerConfig& c) {
  return {{"kind", c.kind}, {"vocab", c.vocab}, {"context_length", c.context_length},
          {"truncate", c.truncate}, {"bos_id", c.bos_id}, {"eos_id", c.eos_id}};
}

void from_json(const json& j, VisionConfig& c) {
  ObjectReader r(j, "vision.");
  r.read("width", c.width);
  r.read("layers", c.layers);
  r.read("heads", c.heads);
  r.read("patch_size", c.patch_size);
  r.read("image_size", c.image_size);
  r.read("mlp_dim", c.mlp_dim);
  r.read("layer_norm_eps", c.layer_norm_eps);
  r.finish();
}

void from_json(const json& j, TextConfig& c) {
  ObjectReader r(j, "text.");
  r.read("vocab_size", c.vocab_size);
  r.read("width", c.width);
  r.read("layers", c.layers);
  r.read("heads", c.heads);
  r.read("context_length", c.context_length);
  r.read("mlp_dim", c.mlp_dim);
  r.read("layer_norm_eps", c.layer_norm_eps);
  r.read_enum("pooling", c.pooling, &text_pooling_from_string);
  r.read("eos_id", c.eos_id);
  r.finish();
}

void from_json(const json& j, AdapterConfig& c) {
  ObjectReader r(j, "adapter.");
  r.read("depth", c.depth);
  r.read_enum("fusion", c.fusion, &fusion_mode_from_string);
  r.read("out_norm", c.out_norm);
  r.read("middle_norm", c.middle_norm);
  r.read("max_frames", c.max_frames);
  r.read("drop_path", c.drop_path);
  r.read_enum("mask_layout", c.mask_layout, &mask_layout_from_string);
  r.read("mask_ratio", c.mask_ratio);
  r.finish();
}

void from_json(const json& j, TokenizerConfig& c) {
  ObjectReader r(j, "tokenizer.");
  r.read("kind", c.kind);
  r.read("vocab", c.vocab);
  r.read("context_length", c.context_length);
  r.read("truncate", c.truncate);
  r.read("bos_id", c.bos_id);
  r.read("eos_id", c.eos_id);
  r.finish();
}

void check_positive(int64_t value, const char* name) {
  TORCH_CHECK(value > 0, "model config: expected ", name, " > 0, got ", value);
}

}  // namespace

std::string model_config_to_json(const ModelConfig& config) {
  json j = {{"embed_dim", config.embed_dim}, {"vision", to_json(config.vision)},
            {"text", to_json(config.text)}, {"adapter", to_json(config.adapter)},
            {"tokenizer", to_json(config.tokenizer)}};
  return j.dump();
}

ModelConfig model_config_from_json(const std::string& json_text) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    TORCH_CHECK(false, "model config: invalid JSON (", e.what(), ")");
  }
  ModelConfig config;
  ObjectReader r(j, "");
  r.read("embed_dim", config.embed_dim);
  from_json(r.child("vision"), config.vision);
  from_json(r.child("text"), config.text);
  from_json(r.child("adapter"), config.adapter);
  from_json(r.child("tokenizer"), config.tokenizer);
  r.finish();
  return config;
}

void validate(const ModelConfig& c) {
  check_positive(c.embed_dim, "embed_dim");
  for (auto [value, name] : {std::pair{c.vision.width, "vision.width"}, {c.vision.layers, "vision.layers"},
                             {c.vision.heads, "vision.heads"}, {c.vision.patch_size, "vision.patch_size"},
                             {c.vision.image_size, "vision.image_size"}, {c.vision.mlp_dim, "vision.mlp_dim"},
                             {c.text.vocab_size, "text.vocab_size"}, {c.text.width, "text.width"},
                             {c.text.layers, "text.layers"}, {c.text.heads, "text.heads"},
                             {c.text.context_length, "text.context_length"}, {c.text.mlp_dim, "text.mlp_dim"},
                             {c.adapter.max_frames, "adapter.max_frames"}}) {
    check_positive(value, name);
  }
  TORCH_CHECK(c.vision.width % c.vision.heads == 0, "model config: expected vision.width (", c.vision.width,
              ") divisible by vision.heads (", c.vision.heads, ")");
  TORCH_CHECK(c.text.width % c.text.heads == 0, "model config: expected text.width (", c.text.width,
              ") divisible by text.heads (", c.text.heads, ")");
  TORCH_CHECK(c.vision.image_size % c.vision.patch_size == 0, "model config: expected vision.image_size (",
              c.vision.image_size, ") divisible by vision.patch_size (", c.vision.patch_size, ")");
  TORCH_CHECK(c.adapter.depth >= 0 && c.adapter.depth <= c.vision.layers,
              "model config: expected 0 <= adapter.depth <= vision.layers (", c.vision.layers, "), got ",
              c.adapter.depth);
  TORCH_CHECK(c.adapter.mask_ratio >= 0.0 && c.adapter.mask_ratio < 1.0,
              "model config: expected 0 <= adapter.mask_ratio < 1, got ", c.adapter.mask_ratio);
}

const char* to_string(FusionMode mode) { return mode == FusionMode::kLearned ? "learned" : "add"; }
const char* to_string(MaskLayout layout) { return layout == MaskLayout::kTube ? "tube" : "official"; }
const char* to_string(TextPooling pooling) {
  return pooling == TextPooling::kArgmaxId ? "argmax_id" : "first_eos";
}

FusionMode fusion_mode_from_string(const std::string& name) {
  if (name == "learned") return FusionMode::kLearned;
  if (name == "add") return FusionMode::kAdd;
  TORCH_CHECK(false, "expected fusion 'learned' or 'add', got '", name, "'");
}

MaskLayout mask_layout_from_string(const std::string& name) {
  if (name == "tube") return MaskLayout::kTube;
  if (name == "official") return MaskLayout::kOfficial;
  TORCH_CHECK(false, "expected mask layout 'tube' or 'official', got '", name, "'");
}

TextPooling text_pooling_from_string(const std::string& name) {
  if (name == "argmax_id") return TextPooling::kArgmaxId;
  if (name == "first_eos") return TextPooling::kFirstEos;
  TORCH_CHECK(false, "expected text pooling 'argmax_id' or 'first_eos', got '", name, "'");
}

}  // namespace btadapter
