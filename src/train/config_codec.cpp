#include "config_codec.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace btadapter::train::detail {

std::string format_double(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  // Keep floats visibly floats in the written YAML: "1" -> "1.0".
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null: return "null";
    default: return "nothing";
  }
}

std::array<double, 2> Codec<std::array<double, 2>>::decode(const YAML::Node& n) {
  TORCH_CHECK(n.IsSequence() && n.size() == 2, "expected a list of two numbers");
  return {n[0].as<double>(), n[1].as<double>()};
}

YAML::Node Codec<std::array<double, 2>>::encode(const std::array<double, 2>& v) {
  YAML::Node node;
  node.push_back(Codec<double>::encode(v[0]));
  node.push_back(Codec<double>::encode(v[1]));
  node.SetStyle(YAML::EmitterStyle::Flow);
  return node;
}

std::vector<LrMultRule> Codec<std::vector<LrMultRule>>::decode(const YAML::Node& n) {
  std::vector<LrMultRule> rules;
  if (n.IsNull()) return rules;  // `lr_mult: {}` or empty: no custom keys
  TORCH_CHECK(n.IsMap(), "expected a mapping");
  for (const auto& item : n) {
    LrMultRule rule;
    rule.key = item.first.as<std::string>();
    TORCH_CHECK(!rule.key.empty(), "expected non-empty keys");
    if (item.second.IsMap()) {
      for (const auto& field : item.second) {
        const auto name = field.first.as<std::string>();
        TORCH_CHECK(name == "lr_mult" || name == "decay_mult", "expected lr_mult or decay_mult");
        (name == "lr_mult" ? rule.lr_mult : rule.decay_mult) = field.second.as<double>();
      }
    } else {
      rule.lr_mult = item.second.as<double>();
    }
    rules.push_back(rule);
  }
  return rules;
}

YAML::Node Codec<std::vector<LrMultRule>>::encode(const std::vector<LrMultRule>& rules) {
  YAML::Node node(YAML::NodeType::Map);
  for (const auto& rule : rules) {
    if (rule.decay_mult == 1.0) {
      node[rule.key] = Codec<double>::encode(rule.lr_mult);
    } else {
      YAML::Node pair;
      pair["lr_mult"] = Codec<double>::encode(rule.lr_mult);
      pair["decay_mult"] = Codec<double>::encode(rule.decay_mult);
      pair.SetStyle(YAML::EmitterStyle::Flow);
      node[rule.key] = pair;
    }
  }
  return node;
}

}  // namespace btadapter::train::detail
