// SentencePiece through the plugin, in a test binary that links LibTorch: train on generated captions,
// load, encode/decode, frame; plus the errors for missing files and a missing plugin.
#include <gtest/gtest.h>

#include "btadapter/text/sentencepiece_tokenizer.h"
#include "support/test_support.h"

#include <cstdlib>
#include <fstream>
#include <random>

using btadapter::testing::expect_error;
using namespace btadapter;
using btadapter::testing::TempDir;

namespace {


// A few hundred short captions from a small fixed grammar, like the demo's synthetic data.
std::string write_captions(const TempDir& dir, int count) {
  const std::vector<std::string> subjects = {"a dog", "a red car", "two children", "an old man", "a small cat",
                                             "the blue bird", "a woman", "three horses"};
  const std::vector<std::string> verbs = {"runs across", "jumps over", "walks along", "sits on", "looks at",
                                          "plays near", "drives past"};
  const std::vector<std::string> places = {"the beach", "a wooden fence", "the busy street", "green grass",
                                           "a snowy hill", "the river bank"};
  std::mt19937 rng(7);
  const std::string path = (dir / "captions.txt").string();
  std::ofstream out(path);
  for (int i = 0; i < count; ++i) {
    out << subjects[rng() % subjects.size()] << " " << verbs[rng() % verbs.size()] << " "
        << places[rng() % places.size()] << (i % 50 == 0 ? "\n\n" : "\n");
  }
  return path;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

// First in the file: once a test has loaded the plugin, the process keeps it.
// The plugin stays loaded for the life of a process, so its first load is checked in a fresh one: a
// "threadsafe" death test re-executes this binary for the statement, whatever ran before in this process.
TEST(SentencePiece, MissingPluginIsNamed) {
  const std::string style = ::testing::FLAGS_gtest_death_test_style;
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  TempDir dir;
  ScopedEnv env("BTADAPTER_SENTENCEPIECE_PLUGIN", (dir / "libnothing.so").string());
  std::ofstream(dir / "m.model") << "x";
  EXPECT_EXIT(
      {
        expect_error([&] { SentencePieceTokenizer((dir / "m.model").string()); },
                     "SentencePiece support needs the plugin " + (dir / "libnothing.so").string() +
                         ", which could not be loaded");
        std::exit(::testing::Test::HasFailure() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
  ::testing::FLAGS_gtest_death_test_style = style;
}

TEST(SentencePiece, TrainsSmallVocabulariesLoadsAndEncodes) {
  TempDir dir;
  const std::string captions = write_captions(dir, 300);
  for (int64_t vocab_size : {200, 1000}) {
    for (const char* type : {"unigram", "bpe"}) {
      const std::string model = (dir / ("demo_" + std::string(type) + ".model")).string();
      train_sentencepiece(SentencePieceTrainOptions(captions, model, vocab_size).model_type(type));
      SentencePieceTokenizer tokenizer(model);
      EXPECT_LE(tokenizer.vocab_size(), vocab_size) << type;
      EXPECT_GT(tokenizer.vocab_size(), 30) << type;
      const std::vector<int64_t> ids = tokenizer.encode("a dog jumps over the river bank");
      ASSERT_FALSE(ids.empty());
      for (int64_t id : ids) EXPECT_TRUE(id > 2 && id < tokenizer.vocab_size()) << id;
      EXPECT_EQ(tokenizer.decode(ids), "a dog jumps over the river bank");
      EXPECT_EQ(tokenizer.framing().bos_id, 1);
      EXPECT_EQ(tokenizer.framing().eos_id, 2);
    }
  }
}

TEST(SentencePiece, FramesLikeClipWithTheModelsSpecialIds) {
  TempDir dir;
  const std::string model = (dir / "m.model").string();
  train_sentencepiece(SentencePieceTrainOptions(write_captions(dir, 300), model, 300));
  TokenFraming framing;
  framing.context_length = 8;
  SentencePieceTokenizer tokenizer(model, framing);
  const std::vector<int64_t> ids = tokenizer.encode("a dog");
  const torch::Tensor rows = tokenizer.tokenize({"a dog", std::string(200, 'x') + " " + "two children"});
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{2, 8}));
  std::vector<int64_t> expected = {1};
  expected.insert(expected.end(), ids.begin(), ids.end());
  expected.push_back(2);
  expected.resize(8, 0);
  EXPECT_TRUE(torch::equal(rows[0], torch::tensor(expected)));
  EXPECT_EQ(rows[1][7].item<int64_t>(), 2);  // cut: eos forced last
  framing.truncation = Truncation::parse("official:4");
  framing.bos_id = TokenFraming::kNoToken;
  EXPECT_EQ(SentencePieceTokenizer(model, framing).tokenize({"a dog"}).size(1), 4);
  EXPECT_EQ(SentencePieceTokenizer(model, framing).frame("a dog").front(), ids.front());
  // Bad UTF-8 and long lines are encoded, not fatal.
  EXPECT_FALSE(tokenizer.encode("caf\xc3 \xff").empty());
  std::string long_line;
  while (long_line.size() < (1 << 20)) long_line += "a dog runs ";
  EXPECT_GT(tokenizer.encode(long_line).size(), (1u << 20) / 11);
}

TEST(SentencePiece, MakeTokenizerBuildsIt) {
  TempDir dir;
  const std::string model = (dir / "m.model").string();
  train_sentencepiece(SentencePieceTrainOptions(write_captions(dir, 300), model, 250));
  TokenizerConfig config;
  config.kind = "sentencepiece";
  config.vocab = model;
  config.context_length = 16;
  auto tokenizer = make_tokenizer(config);
  EXPECT_EQ(tokenizer->tokenize({"a cat"}).sizes(), (std::vector<int64_t>{1, 16}));
}

TEST(SentencePiece, BadInputGivesClearErrors) {
  TempDir dir;
  expect_error([&] { SentencePieceTokenizer((dir / "none.model").string()); }, "SentencePiece model: file not found: ");
  std::ofstream(dir / "junk.model") << "this is not a model";
  expect_error([&] { SentencePieceTokenizer((dir / "junk.model").string()); }, "junk.model: expected a serialized sentencepiece model");
  expect_error([&] { train_sentencepiece(SentencePieceTrainOptions((dir / "none.txt").string(), (dir / "x.model").string(), 100)); },
               "caption file not found");
  std::ofstream(dir / "blank.txt") << "\n  \n";
  expect_error([&] { train_sentencepiece(SentencePieceTrainOptions((dir / "blank.txt").string(), (dir / "x.model").string(), 100)); },
               "has no captions");
  const std::string captions = write_captions(dir, 50);
  expect_error([&] { train_sentencepiece(SentencePieceTrainOptions(captions, (dir / "x.model").string(), 100).model_type("wordpiece")); },
               "failed: ");
  EXPECT_FALSE(std::filesystem::exists(dir / "x.model"));
}
