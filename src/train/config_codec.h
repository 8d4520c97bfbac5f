#pragma once
// YAML <-> C++ value conversion for the training config's key registry (train_config.cpp). Each Codec<T>
// names its type for messages and the reference, decodes a node (throwing YAML::Exception or c10::Error
// on a wrong type; the caller adds the key) and encodes a value.

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "btadapter/config/model_config.h"
#include "btadapter/train/optimizer.h"

namespace btadapter::train::detail {

/// Shortest decimal text that reads back to exactly `value` (".inf"/".nan" in YAML spelling).
std::string format_double(double value);

/// "'text'" for scalars, "a list", "a mapping", "null": what came instead of the expected type.
std::string describe(const YAML::Node& node);

template <typename T>
struct Codec;

template <>
struct Codec<bool> {
  static std::string type() { return "bool"; }
  static bool decode(const YAML::Node& n) { return n.as<bool>(); }
  static YAML::Node encode(bool v) { return YAML::Node(v); }
};

template <>
struct Codec<int64_t> {
  static std::string type() { return "int"; }
  static int64_t decode(const YAML::Node& n) { return n.as<int64_t>(); }
  static YAML::Node encode(int64_t v) { return YAML::Node(v); }
};

template <>
struct Codec<double> {
  static std::string type() { return "float"; }
  static double decode(const YAML::Node& n) { return n.as<double>(); }
  static YAML::Node encode(double v) { return YAML::Node(format_double(v)); }
};

template <>
struct Codec<std::string> {
  static std::string type() { return "string"; }
  // An empty YAML value (`clip:`) is null; for string keys it means "".
  static std::string decode(const YAML::Node& n) { return n.IsNull() ? std::string() : n.as<std::string>(); }
  static YAML::Node encode(const std::string& v) { return YAML::Node(v); }
};

template <>
struct Codec<std::array<double, 2>> {
  static std::string type() { return "[float, float]"; }
  static std::array<double, 2> decode(const YAML::Node& n);
  static YAML::Node encode(const std::array<double, 2>& v);
};

template <>
struct Codec<std::vector<LrMultRule>> {
  static std::string type() { return "{key: lr_mult or {lr_mult, decay_mult}}"; }
  static std::vector<LrMultRule> decode(const YAML::Node& n);
  static YAML::Node encode(const std::vector<LrMultRule>& rules);
};

// The model config's enums, through model_config.h's string names.
template <typename E, const char* (*Name)(E), E (*Parse)(const std::string&)>
struct EnumCodec {
  static E decode(const YAML::Node& n) { return Parse(n.as<std::string>()); }
  static YAML::Node encode(E v) { return YAML::Node(std::string(Name(v))); }
};

template <>
struct Codec<FusionMode> : EnumCodec<FusionMode, to_string, fusion_mode_from_string> {
  static std::string type() { return "learned | add"; }
};

template <>
struct Codec<MaskLayout> : EnumCodec<MaskLayout, to_string, mask_layout_from_string> {
  static std::string type() { return "tube | official"; }
};

template <>
struct Codec<TextPooling> : EnumCodec<TextPooling, to_string, text_pooling_from_string> {
  static std::string type() { return "argmax_id | first_eos"; }
};

}  // namespace btadapter::train::detail
