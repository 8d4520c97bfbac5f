#pragma once
// Reading a fixture folder's config.json, shared by both parity checkers: every error names the file and
// the key.

#include "btadapter/parity/model_parity.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

namespace btadapter::parity_detail {

/// The parsed `file`; `who` prefixes the cannot-open error ("parity", "conversation parity").
inline nlohmann::json read_fixture_json(const std::string& file, const char* who) {
  std::ifstream in(file);
  TORCH_CHECK(in, who, ": cannot open ", file);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    TORCH_CHECK(false, file, ": invalid JSON (", e.what(), ")");
  }
}

inline const nlohmann::json& fixture_member(const nlohmann::json& j, const std::string& key, const std::string& file) {
  TORCH_CHECK(j.is_object() && j.contains(key), file, ": expected key '", key, "'");
  return j.at(key);
}

/// `value` (named `name` in the message) as a number of type T.
template <typename T>
T fixture_number_value(const nlohmann::json& value, const std::string& name, const std::string& file) {
  TORCH_CHECK(value.is_number(), file, ": expected '", name, "' to be a number, got ", value.type_name());
  return value.get<T>();
}

template <typename T>
T fixture_number(const nlohmann::json& j, const std::string& key, const std::string& file) {
  return fixture_number_value<T>(fixture_member(j, key, file), key, file);
}

/// The tolerance rule of one group: {"atol", "rtol", "rtol_of_max"}.
inline ParityTolerance fixture_tolerance(const nlohmann::json& tolerance, const char* group, const std::string& file) {
  const nlohmann::json& g = fixture_member(tolerance, group, file);
  return {fixture_number<double>(g, "atol", file), fixture_number<double>(g, "rtol", file),
          fixture_number<double>(g, "rtol_of_max", file)};
}

}  // namespace btadapter::parity_detail
