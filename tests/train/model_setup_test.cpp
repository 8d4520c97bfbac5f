// Building the pretraining model from the config: CLIP weights from the parity fixtures' containers,
// the heads rule, the fresh branch, adapters loaded from a file that has them, and the error messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "btadapter/io/weight_naming.h"
#include "btadapter/io/weights_file.h"
#include "btadapter/train/model_setup.h"
#include "train/branch_parameters.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::expect_error;
using btadapter::testing::fixture_path;
using btadapter::testing::is_branch_parameter;
using btadapter::testing::TempDir;

namespace {

// The parity fixture's CLIP: vision 64 wide with 4 heads, text 16 wide with 2 (head size 16).
train::ModelSection fixture_section(const std::string& file) {
  train::ModelSection s;
  s.clip = fixture_path("parity/tiny_a/" + file).string();
  s.config.vision.width = 64;
  s.config.vision.heads = 4;
  s.config.text.width = 16;
  s.config.text.heads = 2;
  s.config.adapter.depth = 2;
  s.gradient_checkpointing = false;
  return s;
}

}  // namespace

TEST(ModelSetup, LoadsHfClipFreezesItAndInitialisesTheBranchFromIt) {
  const auto section = fixture_section("weights_hf.safetensors");
  torch::manual_seed(0);
  const auto built = train::build_pretrain_model(section);
  const auto& config = built.model->config();
  EXPECT_EQ(config.vision.layers, 6);
  EXPECT_EQ(config.vision.heads, 4);
  EXPECT_EQ(config.text.heads, 2);
  EXPECT_EQ(config.embed_dim, 32);
  EXPECT_EQ(config.adapter.depth, 2);

  const auto weights = io::read_canonical_weights(section.clip);
  auto params = built.model->named_parameters();
  for (const auto& [name, tensor] : weights) {
    ASSERT_TRUE(params.contains(name)) << name;
    EXPECT_TRUE(torch::equal(params[name], tensor)) << name;
  }
  // The official fresh branch: S-layer k is a copy of CLIP layer L - K + k.
  EXPECT_TRUE(torch::equal(params["backbone.btadapter_S_layers.0.mlp.fc1.weight"],
                           weights.at("backbone.layers.4.mlp.fc1.weight")));
  EXPECT_TRUE(torch::equal(params["backbone.btadapter_S_layers.1.self_attn.q_proj.bias"],
                           weights.at("backbone.layers.5.self_attn.q_proj.bias")));
  EXPECT_TRUE(params["backbone.btadapter_T_layers.0.temporal_fc.weight"].eq(0).all().item<bool>());
  for (const auto& item : params) EXPECT_EQ(item.value().requires_grad(), is_branch_parameter(item.key())) << item.key();
  EXPECT_NE(built.description.find("fresh init"), std::string::npos) << built.description;
  EXPECT_NE(built.description.find("CLIP frozen"), std::string::npos) << built.description;
}

TEST(ModelSetup, HeadsFollowOpenAIRuleWhenTheConfiguredWidthDiffers) {
  auto section = fixture_section("openai_jit.pt");
  section.config.vision.width = 768;  // not the file's 64: the configured 4 heads do not apply
  const auto built = train::build_pretrain_model(section);
  EXPECT_EQ(built.model->config().vision.width, 64);
  EXPECT_EQ(built.model->config().vision.heads, 1);  // 64 / 64
  EXPECT_EQ(built.model->config().text.heads, 2);    // text width matches: configured heads kept
}

TEST(ModelSetup, AdapterWeightsInTheFileAreLoadedNotReinitialised) {
  const auto section = fixture_section("official_checkpoint.pth");
  const auto built = train::build_pretrain_model(section);
  const auto weights = io::read_canonical_weights(section.clip);
  auto params = built.model->named_parameters();
  for (const char* name : {"backbone.btadapter_T_layers.0.temporal_fc.weight", "backbone.balance1",
                           "extra_proj.0.weight"}) {
    EXPECT_TRUE(torch::equal(params[name], weights.at(name))) << name;
  }
  EXPECT_NE(built.description.find("loaded from the same file"), std::string::npos) << built.description;
}

TEST(ModelSetup, TrainClipMakesEveryParameterTrainable) {
  auto section = fixture_section("weights_hf.safetensors");
  section.train_clip = true;
  const auto built = train::build_pretrain_model(section);
  for (const auto& p : built.model->parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(ModelSetup, HfFolderResolvesToItsWeightsFile) {
  TempDir dir;
  std::filesystem::copy_file(fixture_path("parity/tiny_a/weights_hf.safetensors"), dir / "model.safetensors");
  EXPECT_EQ(train::resolve_weights_file(dir.path().string()), (dir / "model.safetensors").string());
  std::filesystem::remove(dir / "model.safetensors");
  expect_error([&] { train::resolve_weights_file(dir.path().string()); },
               "holds neither model.safetensors nor pytorch_model.bin");

  train::ModelSection section;
  section.clip = dir.path().string();
  expect_error([&] { train::resolve_tokenizer_config(section); }, "model.tokenizer.vocab is not set");
  std::ofstream(dir / "vocab.json") << "{}";  // an HF CLIP folder's vocabulary: the folder is the vocab
  EXPECT_EQ(train::resolve_tokenizer_config(section).vocab, dir.path().string());
  section.clip = (dir / "clip.pt").string();
  EXPECT_EQ(train::resolve_tokenizer_config(section).vocab, dir.path().string());
}

TEST(ModelSetup, ErrorsNameTheKey) {
  train::ModelSection section;
  expect_error([&] { train::build_pretrain_model(section); }, "model.clip is not set");
  section.clip = "/no/such/clip.safetensors";
  expect_error([&] { train::build_pretrain_model(section); },
               "model.clip: no such file or folder: '/no/such/clip.safetensors'");
  section.random_clip = true;
  expect_error([&] { train::build_pretrain_model(section); }, "model.random_clip is true but model.clip is set");
  section.clip = "";
  expect_error([&] { train::resolve_tokenizer_config(section); }, "model.tokenizer.vocab is not set");
}
