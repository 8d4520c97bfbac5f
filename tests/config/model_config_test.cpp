#include <gtest/gtest.h>

#include "btadapter/config/model_config.h"
#include "support/test_support.h"

using namespace btadapter;

TEST(ModelConfig, JsonRoundTripKeepsEveryField) {
  ModelConfig c;
  c.embed_dim = 32;
  c.vision.width = 64;
  c.vision.layers = 6;
  c.vision.heads = 4;
  c.vision.patch_size = 8;
  c.vision.image_size = 32;
  c.vision.mlp_dim = 256;
  c.text.width = 16;
  c.text.pooling = TextPooling::kFirstEos;
  c.text.eos_id = 3;
  c.adapter.depth = 2;
  c.adapter.fusion = FusionMode::kAdd;
  c.adapter.mask_layout = MaskLayout::kOfficial;
  c.adapter.mask_ratio = 0.5;
  c.tokenizer.kind = TokenizerKind::kSentencePiece;
  c.tokenizer.truncate = "official:32";
  c.tokenizer.bos_id = -2;
  c.tokenizer.eos_id = 2;
  ModelConfig back = model_config_from_json(model_config_to_json(c));
  EXPECT_EQ(model_config_to_json(back), model_config_to_json(c));
  EXPECT_EQ(back.vision.num_patches(), 16);
  EXPECT_EQ(back.adapter.fusion, FusionMode::kAdd);
  EXPECT_EQ(back.text.pooling, TextPooling::kFirstEos);
}

TEST(ModelConfig, UnknownKeyIsNamed) {
  try {
    model_config_from_json(R"({"vision": {"widht": 3}})");
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("unknown key 'vision.widht'"), std::string::npos)
        << e.what_without_backtrace();
  }
}

TEST(ModelConfig, WrongTypeIsNamed) {
  try {
    model_config_from_json(R"({"adapter": {"depth": "four"}})");
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("'adapter.depth' has the wrong type"),
              std::string::npos)
        << e.what_without_backtrace();
  }
}

TEST(ModelConfig, ValidateRejectsInconsistentSizes) {
  ModelConfig c;
  c.vision.heads = 5;  // 768 % 5 != 0
  EXPECT_THROW(validate(c), c10::Error);
  c = ModelConfig{};
  c.adapter.depth = 13;
  EXPECT_THROW(validate(c), c10::Error);
  c = ModelConfig{};
  EXPECT_NO_THROW(validate(c));
}
