#pragma once
// The shared tokenizer fixture: texts and the ids OpenAI's SimpleTokenizer gives them (no framing).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace btadapter::testing {

struct TokenizerCase {
  std::string text;
  std::vector<int64_t> ids;
};

inline std::vector<TokenizerCase> tokenizer_cases() {
  std::ifstream in(fixture_path("tokenizer/cases.jsonl"));
  std::vector<TokenizerCase> cases;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    cases.push_back({j.at("text").get<std::string>(), j.at("ids").get<std::vector<int64_t>>()});
  }
  EXPECT_EQ(cases.size(), 482u);
  return cases;
}

}  // namespace btadapter::testing
