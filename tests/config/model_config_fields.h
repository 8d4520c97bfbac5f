#pragma once
// A ModelConfig with every field of for_each_model_field changed from its default, and a field-by-field
// comparison: the round-trip tests of the JSON codec and of the training config's model.* keys.

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "btadapter/config/model_config.h"

namespace btadapter::testing {

// A value different from `value` of the same type (enums: the next name in the table).
template <typename T>
T changed_value(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    const auto& names = EnumNames<T>::kNames;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i].first == value) return names[(i + 1) % names.size()].first;
    }
    return names.front().first;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return value + "_changed";
  } else if constexpr (std::is_integral_v<T>) {
    return value + 3;
  } else {
    return value * 2 + 0.25;
  }
}

inline ModelConfig model_config_with_every_field_changed() {
  ModelConfig c;
  for_each_model_field([&](const char*, auto access, const char*) { access(c) = changed_value(access(c)); });
  return c;
}

inline void expect_same_model_fields(const ModelConfig& actual, const ModelConfig& expected) {
  for_each_model_field([&](const char* key, auto access, const char*) {
    EXPECT_TRUE(access(actual) == access(expected)) << "field " << key;
  });
}

}  // namespace btadapter::testing
