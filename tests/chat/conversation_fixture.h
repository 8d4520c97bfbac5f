#pragma once
// The conversation fixture (tests/fixtures/conversation/README.md) for the chat tests: its tensors,
// config.json, and the README's tolerance rule |a - e| <= atol + rtol |e| + rtol_of_max max|e| with the
// group that config.json gives each expected tensor. BTADAPTER_CONV_FIXTURE names another folder
// (e.g. a held-back one) in place of tiny_conv_a.

#include "support/test_support.h"

#include "btadapter/io/safetensors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

namespace btadapter::testing {

struct ConversationFixture {
  std::filesystem::path dir;
  io::TensorMap inputs, expected;
  nlohmann::json config;

  std::string file(const std::string& name) const { return (dir / name).string(); }
  int64_t symbol(const std::string& name) const { return config.at("symbols").at(name).get<int64_t>(); }
  const torch::Tensor& in(const std::string& name) const { return inputs.at(name); }
  const torch::Tensor& exp(const std::string& name) const { return expected.at(name); }
  std::string group(const std::string& name) const {
    return config.at("files").at("expected.safetensors").at("tensors").at(name).at("tolerance").get<std::string>();
  }
};

inline const ConversationFixture& conversation_fixture() {
  static const ConversationFixture fixture = [] {
    ConversationFixture f;
    const char* override_dir = std::getenv("BTADAPTER_CONV_FIXTURE");
    f.dir = override_dir ? std::filesystem::path(override_dir) : fixture_path("conversation/tiny_conv_a");
    f.inputs = io::read_safetensors(f.file("inputs.safetensors"));
    f.expected = io::read_safetensors(f.file("expected.safetensors"));
    std::ifstream in(f.file("config.json"));
    f.config = nlohmann::json::parse(in);
    return f;
  }();
  return fixture;
}

// Worst |a - e| / (atol + rtol |e| + rtol_of_max max|e|) over the tensor, in float64.
inline double tolerance_ratio(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& group) {
  const auto& tol = conversation_fixture().config.at("tolerance").at(group);
  auto a = actual.to(torch::kDouble), e = expected.to(torch::kDouble);
  const double max_e = e.abs().max().item<double>();
  auto bound = tol.at("atol").get<double>() + tol.at("rtol").get<double>() * e.abs() +
               tol.at("rtol_of_max").get<double>() * max_e;
  return ((a - e).abs() / bound).max().item<double>();
}

// EXPECTs `actual` to match expected tensor `name` within its group (exact for "exact"); prints the ratio.
inline double expect_fixture_match(const std::string& name, const torch::Tensor& actual) {
  const auto& f = conversation_fixture();
  SCOPED_TRACE(name);
  if (!f.expected.count(name)) {
    ADD_FAILURE() << "no expected tensor " << name;
    return 0;
  }
  const torch::Tensor& e = f.exp(name);
  EXPECT_EQ(actual.sizes(), e.sizes());
  if (actual.sizes() != e.sizes()) return 0;
  const std::string group = f.group(name);
  if (group == "exact") {
    EXPECT_TRUE(torch::equal(actual.to(e.scalar_type()), e));
    return 0;
  }
  const double ratio = tolerance_ratio(actual, e, group);
  std::printf("  %-28s %-8s worst/tolerance %.4f\n", name.c_str(), group.c_str(), ratio);
  EXPECT_LE(ratio, 1.0) << "max abs diff " << max_abs_diff(actual, e);
  return ratio;
}

}  // namespace btadapter::testing
