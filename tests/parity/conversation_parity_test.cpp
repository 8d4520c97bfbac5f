// Conversation parity with the official llava_base/bt_adapter code: every fixture folder passes the
// checker end to end (vision tower, projector, splice, LLaMA, KV cache, greedy decoding, the training
// loss and gradients, frame indices), and the checker fails on a perturbed or unknown expected tensor.
#include <gtest/gtest.h>

#include "btadapter/io/safetensors.h"
#include "btadapter/parity/conversation_parity.h"
#include "parity/fixture_variant.h"
#include "support/test_support.h"

#include <algorithm>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;
using btadapter::testing::fixture_path;
using btadapter::testing::run_command;
using btadapter::testing::tool_path;

namespace {

std::vector<fs::path> conversation_folders() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(fixture_path("conversation"))) {
    if (entry.is_directory() && fs::exists(entry.path() / "config.json")) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const btadapter::ParityCheck* find_check(const btadapter::ParityReport& report, const std::string& name) {
  for (const auto& c : report.checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

TEST(ConversationParity, EveryFixtureFolderPasses) {
  const auto folders = conversation_folders();
  ASSERT_GE(folders.size(), 1u) << "expected conversation fixtures under " << fixture_path("conversation");
  for (const auto& dir : folders) {
    const auto report = btadapter::run_conversation_parity(dir.string());
    const auto expected = btadapter::io::read_safetensors((dir / "expected.safetensors").string());
    EXPECT_EQ(report.checks.size(), expected.size()) << dir;
    std::map<std::string, double> worst;
    for (const auto& c : report.checks) {
      EXPECT_TRUE(c.passed) << dir << ": " << c.name << " (" << c.group << ") ratio " << c.worst_ratio
                            << " max_abs_diff " << c.max_abs_diff << " " << c.problem;
      worst[c.group] = std::max(worst[c.group], c.worst_ratio);
    }
    for (const auto& [group, ratio] : worst) std::printf("%s: worst %s ratio %.4f\n", dir.filename().c_str(), group.c_str(), ratio);
    EXPECT_TRUE(report.passed()) << dir;
  }
}

TEST(ConversationParity, FailsOnAPerturbedOrUnknownExpectedTensor) {
  const fs::path dir = conversation_folders().front();
  auto expected = btadapter::io::read_safetensors((dir / "expected.safetensors").string());
  expected["llm.logits"] = expected["llm.logits"] + 1e-3;           // 10x the llm group's atol
  auto ids = expected["llm.gen.ids"].clone();
  ids.index_put_({0, 0}, ids.index({0, 0}) + 1);
  expected["llm.gen.ids"] = ids;
  expected["inf.not_a_tensor"] = torch::zeros({2});
  btadapter::testing::TempDir variant;
  btadapter::testing::make_fixture_variant(dir, variant.path(), expected);

  const auto report = btadapter::run_conversation_parity(variant.path().string());
  EXPECT_FALSE(report.passed());
  const auto* logits = find_check(report, "llm.logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_FALSE(logits->passed);
  EXPECT_GT(logits->worst_ratio, 5.0);
  const auto* gen = find_check(report, "llm.gen.ids");
  ASSERT_NE(gen, nullptr);
  EXPECT_FALSE(gen->passed);
  EXPECT_EQ(gen->max_abs_diff, 1.0);
  const auto* unknown = find_check(report, "inf.not_a_tensor");
  ASSERT_NE(unknown, nullptr);
  EXPECT_FALSE(unknown->passed);
  EXPECT_EQ(unknown->problem, "not listed in config.json files");
  EXPECT_TRUE(find_check(report, "llm.hidden_states.0")->passed);
}

TEST(ConversationParity, BtParityChecksAConversationFolder) {
  const fs::path dir = conversation_folders().front();
  auto result = run_command(tool_path("bt_parity").string() + " --quiet " + dir.string());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("PARITY PASS"), std::string::npos) << result.output;

  auto expected = btadapter::io::read_safetensors((dir / "expected.safetensors").string());
  expected["llm.logits"] = expected["llm.logits"] + 1e-3;
  btadapter::testing::TempDir variant;
  btadapter::testing::make_fixture_variant(dir, variant.path(), expected);
  result = run_command(tool_path("bt_parity").string() + " --quiet " + variant.path().string());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("FAIL llm"), std::string::npos) << result.output;

  result = run_command(tool_path("bt_parity").string() + " --precision bf16 " + dir.string());
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("expected no --weights or --precision"), std::string::npos) << result.output;
}
