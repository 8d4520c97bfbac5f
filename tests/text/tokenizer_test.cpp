// The Tokenizer interface: truncation specs, framing, make_tokenizer from a model config.
#include <gtest/gtest.h>

#include "btadapter/text/tokenizer.h"
#include "support/test_support.h"

using btadapter::testing::expect_error;
using namespace btadapter;

namespace {


TokenFraming framing(int64_t context, const std::string& truncate, int64_t bos, int64_t eos) {
  TokenFraming f;
  f.context_length = context;
  f.truncation = Truncation::parse(truncate);
  f.bos_id = bos;
  f.eos_id = eos;
  return f;
}

using Ids = std::vector<int64_t>;

}  // namespace

TEST(Truncation, ParsesBothModes) {
  EXPECT_EQ(Truncation::parse("openai").mode, Truncation::Mode::kOpenAI);
  const Truncation official = Truncation::parse("official:32");
  EXPECT_EQ(official.mode, Truncation::Mode::kOfficial);
  EXPECT_EQ(official.slice, 32);
  EXPECT_EQ(official.to_string(), "official:32");
  for (const char* bad : {"OpenAI", "official", "official:", "official:0", "official:-3", "official:3x", "none"}) {
    expect_error([&] { Truncation::parse(bad); }, std::string("expected truncate 'openai' or 'official:N' with N > 0, got '") + bad + "'");
  }
}

TEST(TokenFraming, CutsLikeOpenAIThenSlices) {
  const Ids ids = {10, 11, 12, 13, 14, 15};
  EXPECT_EQ(framing(10, "openai", 1, 2).frame(ids), (Ids{1, 10, 11, 12, 13, 14, 15, 2}));
  EXPECT_EQ(framing(8, "openai", 1, 2).frame(ids), (Ids{1, 10, 11, 12, 13, 14, 15, 2}));
  EXPECT_EQ(framing(6, "openai", 1, 2).frame(ids), (Ids{1, 10, 11, 12, 13, 2}));
  EXPECT_EQ(framing(6, "official:4", 1, 2).frame(ids), (Ids{1, 10, 11, 12}));
  EXPECT_EQ(framing(6, "official:6", 1, 2).frame(ids), (Ids{1, 10, 11, 12, 13, 2}));
  EXPECT_EQ(framing(6, "official:4", 1, 2).frame({10}), (Ids{1, 10, 2}));
  EXPECT_EQ(framing(6, "openai", -2, -2).frame(ids), (Ids{10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(framing(4, "openai", -2, 2).frame(ids), (Ids{10, 11, 12, 2}));
  EXPECT_EQ(framing(4, "official:2", 1, 2).output_length(), 2);
  EXPECT_EQ(framing(4, "openai", 1, 2).output_length(), 4);
}

TEST(MakeTokenizer, RejectsBadConfigs) {
  TokenizerConfig config;
  expect_error([&] { make_tokenizer(config); }, "expected 'vocab'");
  config.vocab = btadapter::testing::clip_vocab();
  config.truncate = "official:78";
  expect_error([&] { make_tokenizer(config); }, "expected 'official:N' with 1 <= N <= context_length (77)");
  config.truncate = "openai";
  config.context_length = 1;
  expect_error([&] { make_tokenizer(config); }, "expected context_length >= 2, got 1");
  config.context_length = 77;
  config.eos_id = 49408;
  expect_error([&] { make_tokenizer(config); }, "expected eos_id in [0, 49408), -1 (the vocabulary's own) or -2 (none), got 49408");
  config.eos_id = -3;
  expect_error([&] { make_tokenizer(config); }, "got -3");
}

TEST(MakeTokenizer, BuildsClipFromTheModelConfig) {
  TokenizerConfig config;
  config.vocab = btadapter::testing::clip_vocab();
  config.truncate = "official:32";
  auto tokenizer = make_tokenizer(config);
  EXPECT_EQ(tokenizer->vocab_size(), 49408);
  const torch::Tensor ids = tokenizer->tokenize({"a cat", "a dog"});
  ASSERT_EQ(ids.sizes(), (std::vector<int64_t>{2, 32}));
  EXPECT_EQ(ids[0][0].item<int64_t>(), 49406);
  EXPECT_EQ(ids[1][2].item<int64_t>(), 1929);
  config.bos_id = -2;
  config.eos_id = 0;
  EXPECT_EQ(make_tokenizer(config)->frame("a cat"), (Ids{320, 2368, 0}));
}
