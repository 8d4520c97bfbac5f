#include "btadapter/config/model_config.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <type_traits>

namespace btadapter {
namespace {

using nlohmann::json;

json::json_pointer pointer_of(const std::string& key) {
  std::string path = "/" + key;
  std::replace(path.begin(), path.end(), '.', '/');
  return json::json_pointer(path);
}

template <typename T>
json encode(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return enum_name(value);
  } else {
    return value;
  }
}

// Strict types: a float where an int is expected (or a string where a number is) is refused rather
// than converted, since a model file with such a value was not written by this library.
template <typename T>
bool has_type(const json& value) {
  if constexpr (std::is_enum_v<T> || std::is_same_v<T, std::string>) {
    return value.is_string();
  } else if constexpr (std::is_integral_v<T>) {
    return value.is_number_integer();
  } else {
    return value.is_number();
  }
}

template <typename T>
void decode(const json& value, const std::string& key, T& field) {
  TORCH_CHECK(has_type<T>(value), "model config: key '", key, "' has the wrong type (", value.type_name(), ")");
  if constexpr (std::is_enum_v<T>) {
    try {
      field = enum_from_name<T>(value.get<std::string>());
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, "model config: key '", key, "': ", e.what_without_backtrace());
    }
  } else {
    field = value.get<T>();
  }
}

std::set<std::string> field_keys() {
  std::set<std::string> keys;
  for_each_model_field([&](const char* key, auto, const char*) { keys.insert(key); });
  return keys;
}

// Keys are at most one section deep ("vision.width"); anything else (typos, keys from another version,
// deeper nesting) is reported instead of silently ignored.
void check_known_keys(const json& root) {
  static const std::set<std::string> known = field_keys();
  TORCH_CHECK(root.is_object(), "model config: expected an object, got ", root.type_name());
  for (const auto& item : root.items()) {
    if (known.count(item.key())) continue;
    const bool section = std::any_of(known.begin(), known.end(), [&](const std::string& k) { return k.rfind(item.key() + ".", 0) == 0; });
    TORCH_CHECK(section, "model config: unknown key '", item.key(), "'");
    TORCH_CHECK(item.value().is_object(), "model config: expected an object at '", item.key(), "', got ",
                item.value().type_name());
    for (const auto& inner : item.value().items()) {
      const std::string key = item.key() + "." + inner.key();
      TORCH_CHECK(known.count(key), "model config: unknown key '", key, "'");
    }
  }
}

void check_positive(int64_t value, const char* name) {
  TORCH_CHECK(value > 0, "model config: expected ", name, " > 0, got ", value);
}

}  // namespace

std::string model_config_to_json(const ModelConfig& config) {
  json j = json::object();
  for_each_model_field([&](const char* key, auto access, const char*) { j[pointer_of(key)] = encode(access(config)); });
  return j.dump();
}

ModelConfig model_config_from_json(const std::string& json_text) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    TORCH_CHECK(false, "model config: invalid JSON (", e.what(), ")");
  }
  check_known_keys(j);
  ModelConfig config;
  for_each_model_field([&](const char* key, auto access, const char*) {
    const auto pointer = pointer_of(key);
    if (j.contains(pointer)) decode(j.at(pointer), key, access(config));
  });
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

}  // namespace btadapter
