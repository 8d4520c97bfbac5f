#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "btadapter/io/config_inference.h"
#include "btadapter/io/weight_naming.h"
#include "io_test_helpers.h"

using namespace btadapter;
using namespace btadapter::io;
using namespace btadapter::io::testing;

namespace {

/// tiny_a's CLIP (HF file) and adapter under canonical names.
TensorMap tiny_a_canonical() {
  TensorMap w = to_canonical(tiny_a("weights_hf.safetensors"));
  const TensorMap adapter = to_canonical(tiny_a("adapter.safetensors"));
  w.insert(adapter.begin(), adapter.end());
  return w;
}

nlohmann::json tiny_a_config() {
  std::ifstream in(btadapter::testing::fixture_path("parity/tiny_a/config.json"));
  return nlohmann::json::parse(in);
}

}  // namespace

TEST(ConfigInference, TinyFixtureMatchesItsDescription) {
  const nlohmann::json fixture = tiny_a_config();
  const auto& m = fixture.at("model");
  const ModelConfig c = infer_model_config(tiny_a_canonical(), InferConfigOptions().vision_heads(4).text_heads(2));
  EXPECT_EQ(c.embed_dim, m.at("embed_dim").get<int64_t>());
  EXPECT_EQ(c.vision.width, m.at("vision_width").get<int64_t>());
  EXPECT_EQ(c.vision.layers, m.at("vision_layers").get<int64_t>());
  EXPECT_EQ(c.vision.heads, m.at("vision_heads").get<int64_t>());
  EXPECT_EQ(c.vision.patch_size, m.at("patch_size").get<int64_t>());
  EXPECT_EQ(c.vision.image_size, m.at("image_size").get<int64_t>());
  EXPECT_EQ(c.vision.mlp_dim, m.at("mlp_ratio").get<int64_t>() * c.vision.width);
  EXPECT_EQ(c.text.width, m.at("text_width").get<int64_t>());
  EXPECT_EQ(c.text.layers, m.at("text_layers").get<int64_t>());
  EXPECT_EQ(c.text.heads, m.at("text_heads").get<int64_t>());
  EXPECT_EQ(c.text.context_length, m.at("context_length").get<int64_t>());
  EXPECT_EQ(c.text.vocab_size, m.at("vocab_size").get<int64_t>());
  EXPECT_EQ(c.text.mlp_dim, m.at("mlp_ratio").get<int64_t>() * c.text.width);
  const auto& bt = fixture.at("btadapter");
  EXPECT_EQ(c.adapter.depth, bt.at("depth").get<int64_t>());
  EXPECT_EQ(c.adapter.max_frames, bt.at("time_embed_rows").get<int64_t>());
  EXPECT_EQ(c.adapter.fusion, FusionMode::kLearned);
}

TEST(ConfigInference, HeadsDefaultToOpenAIsRule) {
  const ModelConfig c = infer_model_config(tiny_a_canonical());
  EXPECT_EQ(c.vision.heads, 1);  // 64 / 64
  EXPECT_EQ(c.text.heads, 1);    // 16 / 64 rounds to 0, at least 1
}

TEST(ConfigInference, FusionAndAdapterFollowTheWeights) {
  TensorMap w = tiny_a_canonical();
  w.erase("backbone.balance1");
  w.erase("backbone.balance2");
  EXPECT_EQ(infer_model_config(w).adapter.fusion, FusionMode::kAdd);

  // CLIP-only weights: the adapter section (and everything else shapes cannot tell) comes from base.
  ModelConfig base;
  base.adapter.depth = 3;
  base.adapter.fusion = FusionMode::kLearned;
  base.vision.layer_norm_eps = 1e-6;
  base.tokenizer.truncate = "official:32";
  const ModelConfig c = infer_model_config(to_canonical(tiny_a("weights_openai.safetensors")),
                                           InferConfigOptions().base(base));
  EXPECT_EQ(c.adapter.depth, 3);
  EXPECT_EQ(c.adapter.fusion, FusionMode::kLearned);
  EXPECT_EQ(c.vision.layer_norm_eps, 1e-6);
  EXPECT_EQ(c.tokenizer.truncate, "official:32");
  EXPECT_EQ(c.vision.width, 64);
}

TEST(ConfigInference, InconsistentWeightsAreNamed) {
  const TensorMap good = tiny_a_canonical();
  TensorMap w = good;
  w.erase("backbone.patch_embedding.weight");
  expect_error([&] { infer_model_config(w); }, "missing 'backbone.patch_embedding.weight'");

  w = good;
  w["backbone.position_embedding.weight"] = torch::zeros({16, 64});
  expect_error([&] { infer_model_config(w); },
               "expected backbone.position_embedding.weight [1 + grid^2, 64], got [16, 64]");

  w = good;
  for (auto it = w.begin(); it != w.end();) {
    it = it->first.rfind("backbone.layers.2.", 0) == 0 ? w.erase(it) : std::next(it);
  }
  expect_error([&] { infer_model_config(w); },
               "layer indices under 'backbone.layers.' must be 0..4, got a largest index of 5");

  w = good;
  w.erase("backbone.btadapter_T_layers.1.temporal_fc.weight");
  w.erase("backbone.btadapter_T_layers.1.temporal_fc.bias");
  w.erase("backbone.btadapter_T_layers.1.layer_norm1.weight");
  w.erase("backbone.btadapter_T_layers.1.layer_norm1.bias");
  for (const char* p : {"q", "k", "v", "out"}) {
    w.erase(std::string("backbone.btadapter_T_layers.1.self_attn.") + p + "_proj.weight");
    w.erase(std::string("backbone.btadapter_T_layers.1.self_attn.") + p + "_proj.bias");
  }
  expect_error([&] { infer_model_config(w); }, "2 btadapter_S_layers but 1 btadapter_T_layers");

  w = good;
  w["text_backbone.text_projection.weight"] = torch::zeros({31, 16});
  expect_error([&] { infer_model_config(w); },
               "[E, 64] and text_backbone.text_projection.weight [E, 16], got [32, 64] and [31, 16]");

  expect_error([&] { infer_model_config(good, InferConfigOptions().vision_heads(3)); },
               "expected vision.width (64) divisible by vision.heads (3)");
}
