// bt_tokenize end to end: every shared fixture case through the CLI, diffed against the expected ids
// (bare, OpenAI-framed and official:32-framed), plus plain-text input, decoding and bad input.
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "text/tokenizer_cases.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using btadapter::testing::clip_vocab;
using btadapter::testing::run_command;
using btadapter::testing::TokenizerCase;
using btadapter::testing::tokenizer_cases;
using btadapter::testing::fixture_path;
using btadapter::testing::TempDir;
using btadapter::testing::tool_path;
using nlohmann::json;

namespace {

using Ids = std::vector<int64_t>;

// OpenAI's tokenize() row without padding, then the official slice when `slice` > 0.
Ids framed(const Ids& ids, size_t slice) {
  Ids row = {49406};
  row.insert(row.end(), ids.begin(), ids.end());
  row.push_back(49407);
  if (row.size() > 77) {
    row.resize(77);
    row.back() = 49407;
  }
  if (slice > 0 && row.size() > slice) row.resize(slice);
  return row;
}

std::string format(const Ids& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]\n";
}

// Runs bt_tokenize with `args` on `input` and diffs its stdout against `expected`.
void expect_tool_output(const TempDir& dir, const std::string& args, const std::string& input, const std::string& expected) {
  std::ofstream(dir / "input.txt", std::ios::binary) << input;
  std::ofstream(dir / "expected.txt", std::ios::binary) << expected;
  const auto run = run_command(tool_path("bt_tokenize").string() + " --vocab '" + clip_vocab() + "' " + args + " < '" +
                               (dir / "input.txt").string() + "' > '" + (dir / "actual.txt").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto diff = run_command("diff '" + (dir / "expected.txt").string() + "' '" + (dir / "actual.txt").string() + "' | head -40");
  EXPECT_TRUE(diff.output.empty()) << "bt_tokenize " << args << " differs from the expected ids:\n" << diff.output;
}

}  // namespace

TEST(BtTokenize, MatchesEveryFixtureCase) {
  TempDir dir;
  std::ifstream cases_file(fixture_path("tokenizer/cases.jsonl"));
  std::stringstream jsonl;
  jsonl << cases_file.rdbuf();
  std::string bare, openai, official;
  for (const TokenizerCase& c : tokenizer_cases()) {
    bare += format(c.ids);
    openai += format(framed(c.ids, 0));
    official += format(framed(c.ids, 32));
  }
  expect_tool_output(dir, "--jsonl --ids-only", jsonl.str(), bare);
  expect_tool_output(dir, "--jsonl", jsonl.str(), openai);
  expect_tool_output(dir, "--jsonl --truncate official:32", jsonl.str(), official);
}

TEST(BtTokenize, ReadsOneTextPerLine) {
  TempDir dir;
  std::string input, expected;
  for (const TokenizerCase& c : tokenizer_cases()) {
    if (c.text.find_first_of("\r\n") != std::string::npos) continue;
    input += c.text + "\n";
    expected += format(c.ids);
  }
  expect_tool_output(dir, "--ids-only", input, expected);
}

TEST(BtTokenize, InvalidUtf8AndLongLinesAreEncoded) {
  TempDir dir;
  std::string long_line;
  while (long_line.size() < (1 << 20)) long_line += "hello world ";
  Ids long_ids;
  for (size_t i = 0; i < long_line.size() / 12; ++i) long_ids.insert(long_ids.end(), {3306, 1002});
  expect_tool_output(dir, "--ids-only", "caf\xc3\n\xff\xfeok\r\n" + long_line + "\n",
                     format({20867, 39802}) + format({47356, 39802, 2481}) + format(long_ids));
  expect_tool_output(dir, "--context 8", long_line + "\n", format({49406, 3306, 1002, 3306, 1002, 3306, 1002, 49407}));
}

TEST(BtTokenize, DecodesIds) {
  TempDir dir;
  expect_tool_output(dir, "--decode", "[320, 1125, 539, 320, 2368, 269]\n[]\n", "\"a photo of a cat . \"\n\"\"\n");
}

TEST(BtTokenize, BadInputFailsWithOneClearLine) {
  TempDir dir;
  const std::string tool = tool_path("bt_tokenize").string();
  auto run = run_command(tool + " --vocab '" + (dir / "missing.gz").string() + "' < /dev/null");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, "bt_tokenize: CLIP vocabulary: file not found: " + (dir / "missing.gz").string() + "\n");
  run = run_command("echo hi | " + tool + " --vocab '" + clip_vocab() + "' --truncate half");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("expected truncate 'openai' or 'official:N' with N > 0, got 'half'"), std::string::npos) << run.output;
  run = run_command("printf '{\"text\": \"a\"}\\n[1]\\n' | " + tool + " --vocab '" + clip_vocab() + "' --jsonl");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("stdin line 2: expected a JSON string or an object with a string \"text\""), std::string::npos)
      << run.output;
  run = run_command("echo '[1, 99999]' | " + tool + " --vocab '" + clip_vocab() + "' --decode");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("expected an id in [0, 49408), got 99999"), std::string::npos) << run.output;
}
