// Numerical parity with the official BT-Adapter code: bt_parity on every fixture folder, and proof that
// the harness fails on a perturbed or unknown expected tensor.
#include <gtest/gtest.h>

#include "btadapter/io/safetensors.h"
#include "parity/fixture_variant.h"
#include "support/test_support.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;
using btadapter::testing::run_command;
using btadapter::testing::fixture_path;
using btadapter::testing::tool_path;

namespace {

std::vector<fs::path> fixture_folders() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(fixture_path("parity"))) {
    if (entry.is_directory() && fs::exists(entry.path() / "config.json")) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(Parity, EveryFixtureFolderPassesWithBothNamings) {
  auto folders = fixture_folders();
  ASSERT_GE(folders.size(), 2u) << "expected the parity fixtures under " << fixture_path("parity");
  for (const auto& dir : folders) {
    auto result = run_command(tool_path("bt_parity").string() + " --quiet " + dir.string());
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("PARITY PASS"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("weights_openai.safetensors"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("weights_hf.safetensors"), std::string::npos) << result.output;
  }
}

TEST(Parity, FailsOnAPerturbedOrUnknownExpectedTensor) {
  const fs::path dir = fixture_folders().front();
  auto expected = btadapter::io::read_safetensors((dir / "expected.safetensors").string());
  const std::string weights = " --weights " + (dir / "weights_hf.safetensors").string();

  btadapter::testing::TempDir perturbed;
  auto changed = expected;
  changed["btm.loss.total"] = changed["btm.loss.total"] + 1e-3;
  btadapter::testing::make_fixture_variant(dir, perturbed.path(), changed);
  auto result = run_command(tool_path("bt_parity").string() + " --quiet " + perturbed.path().string() + weights);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("FAIL loss    btm.loss.total"), std::string::npos) << result.output;

  btadapter::testing::TempDir unknown;
  auto extra = expected;
  extra["bt.something_new"] = torch::zeros({2});
  btadapter::testing::make_fixture_variant(dir, unknown.path(), extra);
  result = run_command(tool_path("bt_parity").string() + " --quiet " + unknown.path().string() + weights);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("bt.something_new"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("not produced by the harness"), std::string::npos) << result.output;
}

// An error (here: a folder without the fixture files) is one line "bt_parity: ..." without a C++
// backtrace, and exit status 2, apart from a parity failure's 1.
TEST(Parity, AnErrorIsOneLineWithExitStatus2) {
  btadapter::testing::TempDir empty;
  const auto result = run_command(tool_path("bt_parity").string() + " " + empty.path().string());
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.output.rfind("bt_parity: ", 0), 0u) << result.output;
  EXPECT_NE(result.output.find(empty.path().string()), std::string::npos) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
}

TEST(Parity, MissingFolderIsAClearError) {
  auto result = run_command(tool_path("bt_parity").string() + " /nonexistent/fixture");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("nonexistent"), std::string::npos) << result.output;
}
