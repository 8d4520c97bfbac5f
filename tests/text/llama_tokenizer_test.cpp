// LlamaTokenizer: the fixture's toy vocabulary as a SentencePiece model must give the official prompt and
// training ids exactly (inf.input_ids, train.input_ids); a SentencePiece model trained here checks the
// added-token ids and the whitespace rule on a vocabulary the test did not choose; answer clean-up.
#include <gtest/gtest.h>

#include "btadapter/io/safetensors.h"
#include "btadapter/text/conversation_template.h"
#include "btadapter/text/llama_tokenizer.h"
#include "support/test_support.h"
#include "support/toy_llama_tokenizer.h"

#include <fstream>

using btadapter::testing::expect_error;
using btadapter::testing::fixture_path;
using btadapter::testing::TempDir;
using namespace btadapter;
using namespace btadapter::text;

namespace {

nlohmann::json tiny_conv_config() {
  std::ifstream in(fixture_path("conversation/tiny_conv_a/config.json"));
  return nlohmann::json::parse(in);
}

std::vector<int64_t> fixture_ids(const std::string& name) {
  const torch::Tensor ids =
      io::read_safetensors(fixture_path("conversation/tiny_conv_a/inputs.safetensors").string()).at(name);
  return std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
}

std::string write_chat_captions(const TempDir& dir) {
  const std::string path = (dir / "chat.txt").string();
  std::ofstream out(path);
  for (int i = 0; i < 200; ++i) {
    out << "USER: what is the man doing in video " << i % 7 << "? ASSISTANT: he is cutting tomatoes\n"
        << "the woman walks the dog along the street and the child plays\n";
  }
  return path;
}

}  // namespace

TEST(LlamaTokenizer, ToyVocabularyGivesTheFixturePromptIds) {
  TempDir dir;
  const nlohmann::json config = tiny_conv_config();
  const int64_t base = btadapter::testing::write_toy_llama_model(fixture_path("conversation/tiny_conv_a/config.json"),
                                                      dir / "toy.model");
  LlamaTokenizer tokenizer((dir / "toy.model").string());
  const nlohmann::json& special = config["tokenizer"]["special_token_ids"];
  EXPECT_EQ(tokenizer.base_vocab_size(), base);
  EXPECT_EQ(tokenizer.vocab_size(), config["tokenizer"]["vocab_size"].get<int64_t>());
  EXPECT_EQ(tokenizer.video_patch_id(), special["<vid_patch>"].get<int64_t>());
  EXPECT_EQ(tokenizer.video_start_id(), special["<vid_start>"].get<int64_t>());
  EXPECT_EQ(tokenizer.video_end_id(), special["<vid_end>"].get<int64_t>());
  EXPECT_EQ(tokenizer.bos_id(), special["<s>"].get<int64_t>());
  EXPECT_EQ(tokenizer.eos_id(), special["</s>"].get<int64_t>());

  const std::vector<int64_t> prompt_ids = tokenizer.encode_prompt(config["inference"]["prompt"]);
  EXPECT_EQ(prompt_ids, fixture_ids("inf.input_ids"));
  EXPECT_EQ(tokenizer.frame(config["inference"]["prompt"]), prompt_ids);  // Tokenizer interface: same ids
  // The training text ends in "</s>", which must be the eos id, not its characters.
  EXPECT_EQ(tokenizer.encode_prompt(config["training"]["conversation_text"]), fixture_ids("train.input_ids"));
  // Without the whitespace rule the "\n" before <vid_start> would be a byte piece <0x0A> = 3 + 10.
  EXPECT_EQ(tokenizer.encode("dog\n"), (std::vector<int64_t>{331, 13}));
  EXPECT_EQ(tokenizer.encode("dog\n<vid_end>"), (std::vector<int64_t>{331, tokenizer.video_end_id()}));

  const std::vector<int64_t> generated = config["inference"]["generation"]["ids"];
  const std::string text = tokenizer.decode(generated);
  EXPECT_NE(text.find("instructions"), std::string::npos);
  EXPECT_EQ(tokenizer.decode({tokenizer.bos_id(), 304, tokenizer.video_patch_id(), 300, tokenizer.eos_id()}), "man is");
}

TEST(LlamaTokenizer, AddedTokensOnATrainedModel) {
  TempDir dir;
  const std::string model = (dir / "llama.model").string();
  train_sentencepiece(SentencePieceTrainOptions(write_chat_captions(dir), model, 120).model_type("bpe"));
  LlamaTokenizer tokenizer(model);
  const int64_t base = SentencePieceTokenizer(model).vocab_size();
  ASSERT_EQ(tokenizer.base_vocab_size(), base);
  EXPECT_EQ(tokenizer.vocab_size(), base + 3);
  EXPECT_EQ(tokenizer.video_patch_id(), base);
  EXPECT_EQ(tokenizer.video_start_id(), base + 1);
  EXPECT_EQ(tokenizer.video_end_id(), base + 2);

  const int64_t P = 5;
  const std::string question = "what is the man doing";
  const std::string prompt = "USER: " + question_with_video(question, P + 1) + " ASSISTANT:";
  const std::vector<int64_t> ids = tokenizer.encode_prompt(prompt);
  const SentencePieceTokenizer plain(model);
  // Structure: BOS, the text before, start, P+1 patches, end contiguous, then the text after, each
  // segment encoded on its own with no whitespace token beside the video tokens.
  std::vector<int64_t> expected = {tokenizer.bos_id()};
  for (int64_t id : plain.encode("USER: " + question)) expected.push_back(id);
  expected.push_back(tokenizer.video_start_id());
  expected.insert(expected.end(), P + 1, tokenizer.video_patch_id());
  expected.push_back(tokenizer.video_end_id());
  for (int64_t id : plain.encode("ASSISTANT:")) expected.push_back(id);
  EXPECT_EQ(ids, expected);
  const auto start = std::find(ids.begin(), ids.end(), tokenizer.video_start_id());
  ASSERT_NE(start, ids.end());
  EXPECT_EQ(*(start + P + 2), tokenizer.video_end_id());
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tokenizer.video_patch_id()), P + 1);

  // "</s>" and "<s>" split out without stripping; added tokens strip spaces on both sides.
  EXPECT_EQ(tokenizer.encode("he is</s>"), [&] {
    std::vector<int64_t> v = plain.encode("he is");
    v.push_back(tokenizer.eos_id());
    return v;
  }());
  EXPECT_EQ(tokenizer.encode("  he <vid_patch>  is"), [&] {
    std::vector<int64_t> v = plain.encode("  he");
    v.push_back(tokenizer.video_patch_id());
    for (int64_t id : plain.encode("is")) v.push_back(id);
    return v;
  }());
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("he is cutting tomatoes")), "he is cutting tomatoes");
  expect_error([&] { tokenizer.decode({tokenizer.vocab_size()}); },
               "expected ids in [0, " + std::to_string(tokenizer.vocab_size()) + "), got " +
                   std::to_string(tokenizer.vocab_size()));
}

TEST(LlamaTokenizer, AnswerCleanupDefaultAndOfficial) {
  EXPECT_EQ(clean_answer("  two dogs </s> \n"), "two dogs");
  EXPECT_EQ(clean_answer("two dogs"), "two dogs");
  EXPECT_EQ(clean_answer("two dogs</s></s>"), "two dogs</s>");
  // The official rstrip('</s>') is a character set: the plural "s" goes too (quirk 10).
  EXPECT_EQ(clean_answer("two dogs", AnswerCleanup::kOfficialRstripCharacters), "two dog");
  EXPECT_EQ(clean_answer(" yes</s>", AnswerCleanup::kOfficialRstripCharacters), "ye");
  EXPECT_EQ(clean_answer("a cat. </s>", AnswerCleanup::kOfficialRstripCharacters), "a cat.");
  EXPECT_EQ(clean_answer("", AnswerCleanup::kOfficialRstripCharacters), "");
}

TEST(LlamaTokenizer, MissingModelIsNamed) {
  TempDir dir;
  expect_error([&] { LlamaTokenizer((dir / "none.model").string()); }, "file not found: " + (dir / "none.model").string());
}
