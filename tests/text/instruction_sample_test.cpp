// preprocess_v1 on the fixture's training sample with the toy vocabulary: ids and labels equal the
// official train.input_ids / train.labels exactly; multi-round masking and the official mismatch rule.
#include <gtest/gtest.h>

#include "btadapter/io/safetensors.h"
#include "btadapter/text/instruction_sample.h"
#include "support/test_support.h"
#include "support/toy_llama_tokenizer.h"

#include <fstream>

using btadapter::testing::expect_error;
using btadapter::testing::fixture_path;
using btadapter::testing::TempDir;
using namespace btadapter;
using namespace btadapter::text;

namespace {

std::vector<int64_t> training_fixture_ids(const std::string& name) {
  const torch::Tensor t = io::read_safetensors(fixture_path("conversation/tiny_conv_a/inputs.safetensors").string()).at(name);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

std::vector<ConversationTurn> fixture_turns() {
  std::ifstream in(fixture_path("conversation/tiny_conv_a/train_sample.json"));
  std::vector<ConversationTurn> turns;
  const nlohmann::json samples = nlohmann::json::parse(in);
  for (const auto& turn : samples.at(0).at("conversations")) turns.push_back({turn["from"], turn["value"]});
  return turns;
}

// Positions whose label is kept.
std::vector<int64_t> kept_positions(const std::vector<int64_t>& labels) {
  std::vector<int64_t> kept;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != kIgnoreIndex) kept.push_back(static_cast<int64_t>(i));
  }
  return kept;
}

}  // namespace

TEST(InstructionSample, FixtureSampleGivesTheOfficialIdsAndLabels) {
  TempDir dir;
  const auto config_path = fixture_path("conversation/tiny_conv_a/config.json");
  btadapter::testing::write_toy_llama_model(config_path, dir / "toy.model");
  const LlamaTokenizer tokenizer((dir / "toy.model").string());
  std::ifstream in(config_path);
  const nlohmann::json training = nlohmann::json::parse(in).at("training");
  const InstructionSample sample = preprocess_v1(expand_video_token(fixture_turns(), training["cur_token_len"]), tokenizer);
  EXPECT_EQ(sample.text, training["conversation_text"].get<std::string>());
  EXPECT_EQ(sample.input_ids, training_fixture_ids("train.input_ids"));
  EXPECT_EQ(sample.labels, training_fixture_ids("train.labels"));
  EXPECT_EQ(kept_positions(sample.labels), training["label_positions"].get<std::vector<int64_t>>());
  EXPECT_FALSE(sample.mismatch);
}

TEST(InstructionSample, RoundsMaskInstructionsAndMismatchMasksAll) {
  TempDir dir;
  btadapter::testing::write_toy_llama_model(fixture_path("conversation/tiny_conv_a/config.json"), dir / "toy.model");
  const LlamaTokenizer tokenizer((dir / "toy.model").string());
  // Two rounds, a leading gpt turn dropped: kept labels are each answer and its </s>.
  const InstructionSample two = preprocess_v1(
      {{"gpt", "ignored"}, {"human", "What is the man doing?"}, {"gpt", "slicing"}, {"human", "the woman?"}, {"gpt", "the dog"}},
      tokenizer);
  EXPECT_EQ(two.text.find("ignored"), std::string::npos);
  std::vector<int64_t> kept;
  for (int64_t p : kept_positions(two.labels)) kept.push_back(two.input_ids[p]);
  const std::vector<int64_t> slicing = tokenizer.encode("slicing"), dog = tokenizer.encode("the dog");
  std::vector<int64_t> expected = slicing;
  expected.push_back(tokenizer.eos_id());
  expected.insert(expected.end(), dog.begin(), dog.end());
  expected.push_back(tokenizer.eos_id());
  EXPECT_EQ(kept, expected);
  EXPECT_FALSE(two.mismatch);

  // An answer containing " ASSISTANT: " ends the loop early: the count check fails, all ignored.
  const InstructionSample odd = preprocess_v1({{"human", "What?"}, {"gpt", "a USER ASSISTANT: dog"}}, tokenizer);
  EXPECT_TRUE(odd.mismatch);
  EXPECT_TRUE(kept_positions(odd.labels).empty());
  // Cut at max_length: no check (position past the cut), labels cut with the ids.
  const InstructionSample cut = preprocess_v1({{"human", "What?"}, {"gpt", "the dog"}}, tokenizer,
                                              ConversationTemplate::vicuna_v1_1(), 10);
  EXPECT_EQ(cut.input_ids.size(), 10u);
  EXPECT_EQ(cut.labels, std::vector<int64_t>(10, kIgnoreIndex));
  EXPECT_FALSE(cut.mismatch);

  expect_error([&] { preprocess_v1({{"human", "a"}, {"human", "b"}}, tokenizer); },
               "turn 1: expected from \"gpt\" (roles alternate), got \"human\"");
  expect_error([&] { preprocess_v1({{"human", "a"}, {"bot", "b"}}, tokenizer); }, "expected from \"human\" or \"gpt\", got \"bot\"");
  expect_error([&] { preprocess_v1({}, tokenizer); }, "expected at least one turn");
}
