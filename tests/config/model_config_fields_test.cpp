#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

#include "config/model_config_fields.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::expect_error;

// A struct member missing from for_each_model_field leaves a hole in the bytes the listed fields cover:
// a gap at least as large as the next field's alignment (padding is always smaller). This catches every
// omitted int64_t, double, string or enum member.
TEST(ModelConfigFields, ListCoversEveryMember) {
  ModelConfig c;
  const auto* base = reinterpret_cast<const char*>(&c);
  std::vector<std::tuple<int64_t, int64_t, int64_t, std::string>> spans;  // offset, size, alignment, key
  for_each_model_field([&](const char* key, auto access, const char*) {
    const auto& field = access(c);
    using T = std::decay_t<decltype(field)>;
    spans.emplace_back(reinterpret_cast<const char*>(&field) - base, sizeof(T), alignof(T), key);
  });
  std::sort(spans.begin(), spans.end());
  int64_t covered = 0;
  for (const auto& [offset, size, alignment, key] : spans) {
    EXPECT_GE(offset, covered) << "'" << key << "' overlaps the field before it (listed twice?)";
    EXPECT_LT(offset - covered, alignment) << "a ModelConfig member before '" << key << "' is not listed";
    covered = offset + size;
  }
  EXPECT_LT(static_cast<int64_t>(sizeof(ModelConfig)) - covered, static_cast<int64_t>(alignof(ModelConfig)))
      << "the last ModelConfig member is not listed";
}

TEST(ModelConfigFields, JsonRoundTripOfEveryChangedField) {
  const ModelConfig changed = btadapter::testing::model_config_with_every_field_changed();
  const ModelConfig defaults;
  for_each_model_field([&](const char* key, auto access, const char*) {
    EXPECT_FALSE(access(changed) == access(defaults)) << "field " << key << " was not changed";
  });
  btadapter::testing::expect_same_model_fields(model_config_from_json(model_config_to_json(changed)), changed);
}

TEST(ModelConfigFields, JsonRefusesWrongTypesAndNames) {
  expect_error([] { model_config_from_json(R"({"tokenizer": {"kind": "wordpiece"}})"); },
               "key 'tokenizer.kind': expected tokenizer kind 'clip_bpe' or 'sentencepiece', got 'wordpiece'");
  expect_error([] { model_config_from_json(R"({"adapter": {"depth": 4.5}})"); },
               "key 'adapter.depth' has the wrong type (number)");
  expect_error([] { model_config_from_json(R"({"vision": 3})"); }, "expected an object at 'vision', got number");
  expect_error([] { model_config_from_json(R"({"vision": {"width": {"deeper": 1}}})"); },
               "key 'vision.width' has the wrong type (object)");
  expect_error([] { model_config_from_json(R"({"adapter": {"fusion": "learned", "gate": 1}})"); },
               "unknown key 'adapter.gate'");
}
