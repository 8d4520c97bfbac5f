// The bounded JSON parser builds the same documents as nlohmann's own (key order, repeated keys,
// every value type), in time linear in the number of keys, and refuses what it promises to.
#include "btadapter/io/json_limits.h"

#include "support/test_support.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using btadapter::io::JsonParseOptions;
using btadapter::io::parse_json_bounded;
using btadapter::io::parse_ordered_json_bounded;
using btadapter::testing::error_of;

// A random document of nested objects and arrays whose keys repeat now and then.
std::string random_document(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const int kind = depth >= 4 ? 2 + pick(5) : pick(7);
  switch (kind) {
    case 0: {
      std::string out = "{";
      for (int i = 0, n = pick(6); i < n; ++i) {
        out += (i ? "," : "") + std::string("\"k") + std::to_string(pick(4)) + "\":" + random_document(rng, depth + 1);
      }
      return out + "}";
    }
    case 1: {
      std::string out = "[";
      for (int i = 0, n = pick(4); i < n; ++i) out += (i ? "," : "") + random_document(rng, depth + 1);
      return out + "]";
    }
    case 2: return std::to_string(pick(1000) - 500);
    case 3: return std::to_string(pick(1000)) + ".25";
    case 4: return "\"s" + std::to_string(pick(9)) + "\\u00e9\"";
    case 5: return pick(2) ? "true" : "false";
    default: return "null";
  }
}

TEST(JsonLimits, DocumentsEqualNlohmannsIncludingRepeatedKeys) {
  std::mt19937 rng(3);
  for (int d = 0; d < 500; ++d) {
    const std::string text = random_document(rng, 0);
    const auto ordered = parse_ordered_json_bounded(text, "doc");
    const auto reference = nlohmann::ordered_json::parse(text);
    ASSERT_EQ(ordered, reference) << text;
    ASSERT_EQ(ordered.dump(), reference.dump()) << text;  // same key order
    ASSERT_EQ(parse_json_bounded(text, "doc"), nlohmann::json::parse(text)) << text;
  }
}

TEST(JsonLimits, ManyKeysKeepFileOrder) {
  // 300k keys took 61 s with nlohmann's ordered DOM parser (linear search per key); here it is linear.
  std::string text = "{";
  const int kKeys = 300000;
  for (int i = kKeys - 1; i >= 0; --i) text += "\"video" + std::to_string(i) + "\":[\"c\"]" + (i ? "," : "}");
  const auto json = parse_ordered_json_bounded(text, "big.json");
  ASSERT_EQ(json.size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(json.begin().key(), "video299999");
  EXPECT_EQ((--json.end()).key(), "video0");
}

TEST(JsonLimits, RefusalsNameTheSource) {
  JsonParseOptions unique;
  unique.refuse_duplicate_keys = true;
  EXPECT_EQ(parse_ordered_json_bounded(R"({"a":1,"b":{"a":2}})", "x", unique).size(), 2u);
  for (const bool ordered : {true, false}) {
    const std::string msg = error_of([&] {
      if (ordered) parse_ordered_json_bounded(R"({"a":1,"b":2,"a":3})", "file 'x.json'", unique);
      else parse_json_bounded(R"({"a":1,"b":2,"a":3})", "file 'x.json'", unique);
    });
    EXPECT_NE(msg.find("file 'x.json': key 'a' appears twice in one object"), std::string::npos) << msg;
  }
  for (const char* bad : {"{\"a\":}", "[1,2", "{} x", "", "{\"a\" 1}"}) {
    const std::string msg = error_of([&] { parse_ordered_json_bounded(bad, "file 'x.json' is not valid JSON"); });
    EXPECT_NE(msg.find("file 'x.json' is not valid JSON: "), std::string::npos) << bad << ": " << msg;
    EXPECT_NE(msg.find("parse error"), std::string::npos) << bad << ": " << msg;
  }
}

}  // namespace
