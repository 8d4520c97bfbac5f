#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "btadapter/config/model_config.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::expect_error;

// Every field set away from its default and the JSON compared with one written out by hand: a field that
// to_json drops or from_json skips shows here (comparing the output with itself could not).
TEST(ModelConfig, JsonRoundTripKeepsEveryField) {
  ModelConfig c;
  c.embed_dim = 32;
  c.vision = {64, 6, 4, 8, 32, 256, 1e-6};
  c.text.vocab_size = 300;
  c.text.width = 16;
  c.text.layers = 3;
  c.text.heads = 2;
  c.text.context_length = 40;
  c.text.mlp_dim = 64;
  c.text.layer_norm_eps = 1e-7;
  c.text.pooling = TextPooling::kFirstEos;
  c.text.eos_id = 3;
  c.adapter = {2, FusionMode::kAdd, 5.0, 6.0, 16, 0.25, MaskLayout::kOfficial, 0.5};
  c.tokenizer = {TokenizerKind::kSentencePiece, "spm.model", 41, "official:32", -2, 2};
  const auto expected = nlohmann::json::parse(R"({
    "embed_dim": 32,
    "vision": {"width": 64, "layers": 6, "heads": 4, "patch_size": 8, "image_size": 32, "mlp_dim": 256,
               "layer_norm_eps": 1e-6},
    "text": {"vocab_size": 300, "width": 16, "layers": 3, "heads": 2, "context_length": 40, "mlp_dim": 64,
             "layer_norm_eps": 1e-7, "pooling": "first_eos", "eos_id": 3},
    "adapter": {"depth": 2, "fusion": "add", "out_norm": 5.0, "middle_norm": 6.0, "max_frames": 16,
                "drop_path": 0.25, "mask_layout": "official", "mask_ratio": 0.5},
    "tokenizer": {"kind": "sentencepiece", "vocab": "spm.model", "context_length": 41, "truncate": "official:32",
                  "bos_id": -2, "eos_id": 2}})");
  EXPECT_EQ(nlohmann::json::parse(model_config_to_json(c)), expected);
  const ModelConfig back = model_config_from_json(expected.dump());
  EXPECT_EQ(nlohmann::json::parse(model_config_to_json(back)), expected);
  EXPECT_EQ(back.vision.num_patches(), 16);
}

TEST(ModelConfig, UnknownKeyIsNamed) {
  expect_error([&] { model_config_from_json(R"({"vision": {"widht": 3}})"); }, "unknown key 'vision.widht'");
}

TEST(ModelConfig, WrongTypeIsNamed) {
  expect_error([&] { model_config_from_json(R"({"adapter": {"depth": "four"}})"); },
               "'adapter.depth' has the wrong type");
}

TEST(ModelConfig, ValidateRejectsInconsistentSizes) {
  ModelConfig c;
  c.vision.heads = 5;  // 768 % 5 != 0
  expect_error([&] { validate(c); }, "expected vision.width (768) divisible by vision.heads (5)");
  c = ModelConfig{};
  c.adapter.depth = 13;
  expect_error([&] { validate(c); }, "expected 0 <= adapter.depth <= vision.layers (12), got 13");
  c = ModelConfig{};
  EXPECT_NO_THROW(validate(c));
}
