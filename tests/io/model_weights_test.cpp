// The one loading path (io/model_weights.h): config, canonical tensors and the vocabulary rule.
#include "btadapter/io/model_weights.h"

#include "support/test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace btadapter::io {
namespace {

using btadapter::testing::expect_error;
using btadapter::testing::fixture_path;
using btadapter::testing::TempDir;

std::string tiny_openai() { return fixture_path("parity/tiny_a/weights_openai.safetensors").string(); }

TEST(ModelWeights, HeadsComeFromOptionsThenFromABaseOfTheSameWidthThenWidthOver64) {
  const ModelWeights explicit_heads = read_model_weights(tiny_openai(), ReadModelWeightsOptions().vision_heads(4).text_heads(2));
  EXPECT_EQ(explicit_heads.config.vision.heads, 4);
  EXPECT_EQ(explicit_heads.config.text.heads, 2);
  EXPECT_EQ(explicit_heads.naming, WeightNaming::kOpenAI);
  EXPECT_FALSE(explicit_heads.stored.has_value());
  EXPECT_EQ(explicit_heads.tensors.size(), read_canonical_weights(tiny_openai()).size());

  ModelConfig base;
  base.vision.width = explicit_heads.config.vision.width;
  base.vision.heads = 4;  // same width as the weights: its heads are taken
  base.text.heads = 4;    // the default text width differs from the weights': width / 64 (at least 1)
  const ModelWeights from_base = read_model_weights(tiny_openai(), ReadModelWeightsOptions().base(base));
  EXPECT_EQ(from_base.config.vision.heads, 4);
  EXPECT_EQ(from_base.config.text.heads, 1);
}

TEST(ModelWeights, ErrorsNameTheFile) {
  expect_error([] { read_model_weights("/no/such/m.safetensors"); },
               "model file '/no/such/m.safetensors' does not exist");
  expect_error([] { read_model_weights(tiny_openai(), ReadModelWeightsOptions().adapter(tiny_openai())); },
               "both hold");
}

TEST(ResolveVocab, GivenThenStoredThenBesideThenTheModelsFolder) {
  TempDir dir;
  const std::string model = (dir / "m.safetensors").string();
  std::ofstream(dir / "v.txt.gz") << "x";
  EXPECT_EQ(resolve_vocab((dir / "v.txt.gz").string(), "elsewhere.gz", model, "hint"), (dir / "v.txt.gz").string());
  expect_error([&] { resolve_vocab("/no/v.gz", "", model, "hint"); }, "'/no/v.gz' does not exist");
  // stored: as stored, then beside the model under its file name
  EXPECT_EQ(resolve_vocab("", "/moved/away/v.txt.gz", model, "hint"), (dir / "v.txt.gz").string());
  expect_error([&] { resolve_vocab("", "/moved/away/w.gz", model, "give --vocab"); },
               "not found (tried '/moved/away/w.gz', '" + (dir / "w.gz").string() + "'): give --vocab");
  // nothing named: the model's folder when it holds a vocabulary
  expect_error([&] { resolve_vocab("", "", model, "give --vocab"); },
               "model '" + model + "' names no tokenizer vocabulary and its folder holds neither");
  std::ofstream(dir / "vocab.json") << "{}";
  EXPECT_EQ(resolve_vocab("", "", model, "hint"), dir.path().string());
  EXPECT_EQ(resolve_vocab("", "", dir.path().string(), "hint"), dir.path().string());
  expect_error([&] { resolve_vocab("", "", "", "give --vocab"); },
               "names no tokenizer vocabulary: give --vocab");
}

}  // namespace
}  // namespace btadapter::io
