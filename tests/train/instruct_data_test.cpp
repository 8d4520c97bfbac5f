// The instruction dataset: the fixture's VideoChatGPT row gives the official ids and labels; bad rows,
// missing and unreadable feature files, truncation to the context and collation padding are counted
// and shaped as instruct_data.h says.
#include <gtest/gtest.h>

#include "train/instruct_fixture.h"

using namespace btadapter;
using namespace btadapter::testing;

namespace {

train::InstructionDatasetOptions data_options(const TempDir& dir, int64_t max_length = 2048) {
  return train::InstructionDatasetOptions((dir / "features").string(), 17).max_length(max_length);
}

torch::Tensor features_of_frames(int64_t frames) { return torch::randn({frames, 17, 64}); }

}  // namespace

TEST(InstructionData, FixtureRowGivesTheOfficialIdsAndLabels) {
  TempDir dir;
  const auto& f = conversation_fixture();
  const text::LlamaTokenizer tokenizer = fixture_tokenizer(dir);
  write_features(dir, "tiny_conv_a_0", f.in("train.features")[0]);
  const train::InstructionDataset data(f.file("train_sample.json"), tokenizer, data_options(dir));
  ASSERT_EQ(data.size(), 1);
  EXPECT_EQ(data.example(0).id, "tiny_conv_a_0");
  const train::InstructionBatch batch = train::collate_instructions(data, {0}, tokenizer.unk_id());
  EXPECT_TRUE(torch::equal(batch.input_ids, f.in("train.input_ids")));
  EXPECT_TRUE(torch::equal(batch.labels, f.in("train.labels")));
  EXPECT_TRUE(torch::equal(batch.features, f.in("train.features")));
  EXPECT_EQ(data.stats().truncated, 0);
}

TEST(InstructionData, BadRowsAndMissingFeaturesAreCountedNotFatal) {
  TempDir dir;
  const text::LlamaTokenizer tokenizer = fixture_tokenizer(dir);
  write_features(dir, "a", features_of_frames(4));
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back(instruction_row("a", "What is the man doing?", "slicing"));
  rows.push_back(instruction_row("missing", "What is the man doing?", "slicing"));
  rows.push_back({{"id", "no_video"}, {"conversations", nlohmann::json::array()}});
  rows.push_back(42);
  rows.push_back({{"video", "a.pkl"}, {"conversations", {{{"from", "robot"}, {"value", "x"}}}}});
  const train::InstructionDataset data(write_json(dir, "rows.json", rows), tokenizer, data_options(dir));
  EXPECT_EQ(data.size(), 1);
  EXPECT_EQ(data.stats().rows, 5);
  EXPECT_EQ(data.stats().missing_features, 1);
  EXPECT_EQ(data.stats().bad_rows, 3);
  const train::InstructionFile file = train::read_instruction_json((dir / "rows.json").string());
  ASSERT_EQ(file.problems.size(), 2u);
  EXPECT_NE(file.problems[0].find("row 2"), std::string::npos) << file.problems[0];
  EXPECT_NE(file.problems[1].find("row 3"), std::string::npos) << file.problems[1];

  std::ofstream(dir / "not_array.json") << "{\"video\": 1}";
  expect_error([&] { train::read_instruction_json((dir / "not_array.json").string()); }, "expected a JSON array");
}

TEST(InstructionData, TruncationIsCountedAndACutVideoBlockIsSkipped) {
  TempDir dir;
  const text::LlamaTokenizer tokenizer = fixture_tokenizer(dir);
  write_features(dir, "a", features_of_frames(4));
  const std::string json = write_json(dir, "one.json", nlohmann::json::array({instruction_row(
                                                           "a", "What is the man doing?", "The man is slicing tomatoes in the kitchen.")}));
  const train::InstructionDataset full(json, tokenizer, data_options(dir));
  ASSERT_EQ(full.size(), 1);
  const auto length = static_cast<int64_t>(full.example(0).input_ids.size());

  const train::InstructionDataset cut_answer(json, tokenizer, data_options(dir, length - 3));
  ASSERT_EQ(cut_answer.size(), 1);
  EXPECT_EQ(cut_answer.stats().truncated, 1);
  EXPECT_EQ(cut_answer.stats().truncated_dropped, 0);
  EXPECT_EQ(static_cast<int64_t>(cut_answer.example(0).input_ids.size()), length - 3);

  const auto& ids = full.example(0).input_ids;
  const auto start = std::find(ids.begin(), ids.end(), tokenizer.video_start_id()) - ids.begin();
  const train::InstructionDataset cut_video(json, tokenizer, data_options(dir, start + 5));
  EXPECT_EQ(cut_video.size(), 0);
  EXPECT_EQ(cut_video.stats().truncated, 1);
  EXPECT_EQ(cut_video.stats().truncated_dropped, 1);
}

TEST(InstructionData, CollationPadsAndSkipsUnreadableFeatures) {
  TempDir dir;
  const text::LlamaTokenizer tokenizer = fixture_tokenizer(dir);
  write_features(dir, "a", features_of_frames(4));
  write_features(dir, "b", features_of_frames(4));
  write_features(dir, "wrong_shape", torch::randn({4, 9, 64}));
  std::ofstream(dir / "features" / "garbage.safetensors") << "not a safetensors file";
  const train::InstructionDataset data(
      write_json(dir, "rows.json",
                 nlohmann::json::array({instruction_row("a", "What is the man doing?", "slicing"),
                                        instruction_row("b", "What is the man doing?", "The man is slicing tomatoes."),
                                        instruction_row("wrong_shape", "What?", "x"), instruction_row("garbage", "What?", "x")})),
      tokenizer, data_options(dir));
  ASSERT_EQ(data.size(), 4);
  const train::InstructionBatch batch = train::collate_instructions(data, {0, 1, 2, 3}, tokenizer.unk_id());
  EXPECT_EQ(batch.bad_videos, 2);
  ASSERT_EQ(batch.problems.size(), 2u);
  EXPECT_NE(batch.problems[0].find("wrong_shape.safetensors"), std::string::npos) << batch.problems[0];
  EXPECT_NE(batch.problems[1].find("garbage.safetensors"), std::string::npos) << batch.problems[1];
  EXPECT_EQ(batch.indices, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(batch.features.sizes(), (std::vector<int64_t>{2, 4, 17, 64}));
  const auto short_len = static_cast<int64_t>(data.example(0).input_ids.size());
  const auto long_len = static_cast<int64_t>(data.example(1).input_ids.size());
  ASSERT_LT(short_len, long_len);
  EXPECT_EQ(batch.input_ids.size(1), long_len);
  EXPECT_TRUE(batch.input_ids[0].narrow(0, short_len, long_len - short_len).eq(tokenizer.unk_id()).all().item<bool>());
  EXPECT_TRUE(batch.labels[0].narrow(0, short_len, long_len - short_len).eq(text::kIgnoreIndex).all().item<bool>());
}
