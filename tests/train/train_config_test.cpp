#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "btadapter/train/train_config.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::expect_error;
using namespace btadapter::train;

namespace {

std::string config_path(const std::string& name) {
  return (btadapter::testing::source_dir() / "configs" / name).string();
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

}  // namespace

TEST(TrainConfig, WebvidYamlIsTheOfficialRecipe) {
  auto c = load_train_config(config_path("webvid.yaml"));
  EXPECT_EQ(c.model.config.vision.width, 1024);
  EXPECT_EQ(c.model.config.vision.patch_size, 14);
  EXPECT_EQ(c.model.config.adapter.depth, 4);
  EXPECT_EQ(c.model.config.adapter.mask_layout, MaskLayout::kOfficial);
  EXPECT_DOUBLE_EQ(c.model.config.adapter.mask_ratio, 0.7);
  EXPECT_EQ(c.model.config.tokenizer.truncate, "official:64");
  EXPECT_TRUE(c.model.gradient_checkpointing);
  EXPECT_EQ(c.data.num_frames, 8);
  EXPECT_EQ(c.data.batch_size, 52);
  EXPECT_DOUBLE_EQ(c.loss.vtc_weight, 1.0);
  EXPECT_DOUBLE_EQ(c.loss.mbca_weight, 0.1);
  EXPECT_DOUBLE_EQ(c.loss.mbta_weight, 0.1);
  EXPECT_DOUBLE_EQ(c.loss.tau, 0.01);
  EXPECT_DOUBLE_EQ(c.optim.lr, 2e-6);
  EXPECT_DOUBLE_EQ(c.optim.betas[1], 0.98);
  EXPECT_DOUBLE_EQ(c.optim.eps, 1e-8);
  EXPECT_DOUBLE_EQ(c.optim.weight_decay, 0.05);
  EXPECT_DOUBLE_EQ(c.optim.grad_clip, 5.0);
  ASSERT_EQ(c.optim.lr_mult.size(), 4u);
  EXPECT_EQ(c.optim.lr_mult[3].key, ".btadapter_T_layers");
  EXPECT_DOUBLE_EQ(c.optim.lr_mult[3].lr_mult, 100.0);
  EXPECT_EQ(c.schedule.epochs, 1);
  EXPECT_DOUBLE_EQ(c.schedule.warmup_epochs, 0.5);
  EXPECT_DOUBLE_EQ(c.schedule.cosine_epochs, 4.5);
  EXPECT_EQ(c.eval.num_frames, 12);
  EXPECT_EQ(c.eval.text_truncate, "official:32");
  // The file spells out the defaults: loading it equals the default-constructed recipe except for the
  // ViT-L sizes (the struct defaults to ViT-B/16) and the official mask layout.
  TrainConfig defaults;
  defaults.model.config.embed_dim = 768;
  defaults.model.config.vision = c.model.config.vision;
  defaults.model.config.text = c.model.config.text;
  defaults.model.config.adapter.mask_layout = MaskLayout::kOfficial;
  defaults.model.config.tokenizer.truncate = "official:64";
  EXPECT_EQ(train_config_to_yaml(c), train_config_to_yaml(defaults));
}

TEST(TrainConfig, TinyConfigLoads) {
  auto c = load_train_config(config_path("tiny.yaml"));
  EXPECT_EQ(c.model.config.vision.width, 32);
  EXPECT_EQ(c.model.config.adapter.depth, 2);
  EXPECT_EQ(c.run.device, DeviceChoice::kCpu);
  EXPECT_DOUBLE_EQ(c.optim.weight_decay, 0.05);  // unlisted keys keep the recipe defaults
}

TEST(TrainConfig, ResolvedYamlRoundTripsEveryKey) {
  auto c = load_train_config(config_path("tiny.yaml"),
                             {"optim.lr_mult={a: 2, b: {lr_mult: 3, decay_mult: 0}}", "optim.betas=[0.8, 0.9]",
                              "loss.gather=official", "run.seed=-7", "optim.lr=1e-3", "model.clip=/w/clip dir/a:b.safetensors"});
  const std::string yaml = train_config_to_yaml(c);
  auto back = train_config_from_yaml(yaml);
  EXPECT_EQ(train_config_to_yaml(back), yaml);
  EXPECT_EQ(back.model.clip, "/w/clip dir/a:b.safetensors");
  EXPECT_EQ(back.optim.lr_mult.size(), 2u);
  EXPECT_DOUBLE_EQ(back.optim.lr_mult[1].decay_mult, 0.0);
  EXPECT_DOUBLE_EQ(back.optim.lr, 1e-3);
  EXPECT_EQ(back.loss.gather, dist::GatherMode::kOfficial);
  EXPECT_EQ(back.run.seed, -7);
  EXPECT_CONTAINS(yaml, "lr: 0.001\n");
  EXPECT_CONTAINS(yaml, "betas: [0.8, 0.9]");
}

TEST(TrainConfig, WrittenConfigReadsBack) {
  btadapter::testing::TempDir dir;
  TrainConfig c;
  c.data.batch_size = 7;
  write_train_config((dir / "run/config.yaml").string(), c);
  auto back = load_train_config((dir / "run/config.yaml").string());
  EXPECT_EQ(back.data.batch_size, 7);
}

TEST(TrainConfig, OverridesAreTypeChecked) {
  TrainConfig c;
  apply_override(c, "data.batch_size=16");
  apply_override(c, "model.adapter.fusion=add");
  apply_override(c, "model.clip=");
  EXPECT_EQ(c.data.batch_size, 16);
  EXPECT_EQ(c.model.config.adapter.fusion, FusionMode::kAdd);
  EXPECT_EQ(c.model.clip, "");
  expect_error([&] { apply_override(c, "optim.lr=fast"); },
               "--set optim.lr=fast: key 'optim.lr' expects float, got 'fast'");
  expect_error([&] { apply_override(c, "data.batch_size=1.5"); }, "key 'data.batch_size' expects int, got '1.5'");
  expect_error([&] { apply_override(c, "data.shuffle=[1]"); }, "key 'data.shuffle' expects bool, got a list");
  expect_error([&] { apply_override(c, "loss.gather=mean"); }, {"key 'loss.gather'", "'mean'"});
  expect_error([&] { apply_override(c, "model.adapter.fusion=concat"); },
               {"key 'model.adapter.fusion'", "'concat'"});
  expect_error([&] { apply_override(c, "optim.betas=[0.9]"); }, "expects [float, float], got a list");
  expect_error([&] { apply_override(c, "optim.lrr=1"); },
               "--set optim.lrr=1: unknown key 'optim.lrr' (did you mean 'optim.lr'?)");
  expect_error([&] { apply_override(c, "optim=1"); }, "'optim' is a section; set one of its keys");
  expect_error([&] { apply_override(c, "optim.lr"); }, "expected key=value");
}

TEST(TrainConfig, FileErrorsNameTheFileAndKey) {
  btadapter::testing::TempDir dir;
  auto write = [&](const std::string& text) {
    std::ofstream((dir / "c.yaml").string()) << text;
    return (dir / "c.yaml").string();
  };
  const std::string path = write("optim:\n  lr: 1e-3\n  weight_decey: 0.1\n");
  expect_error([&] { load_train_config(path); },
               path + ": unknown key 'optim.weight_decey' (did you mean 'optim.weight_decay'?)");
  expect_error([&] { load_train_config(write("data:\n  batch_size: many\n")); },
               "key 'data.batch_size' expects int, got 'many'");
  expect_error([&] { load_train_config(write("data: 3\n")); }, "expected a mapping at 'data', got '3'");
  expect_error([&] { load_train_config(write("data: [\n")); }, "invalid YAML at line");
  expect_error([&] { load_train_config(write("bogus:\n  x: 1\n")); }, "unknown key 'bogus'");
  expect_error([&] { load_train_config((dir / "missing.yaml").string()); }, "cannot read config file");
  EXPECT_EQ(load_train_config(write("")).data.batch_size, 52);  // an empty file is all defaults
}

TEST(TrainConfig, ValidationNamesTheKey) {
  TrainConfig c;
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"optim.lr=0"}); },
               "config key 'optim.lr': expected a positive number, got 0.0");
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"optim.betas=[0.9, 1.0]"}); },
               "config key 'optim.betas': expected values in [0, 1)");
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"data.num_frames=9"}); },
               "config key 'data.num_frames': expected at most model.adapter.max_frames (8)");
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"data.crop_min_area=0"}); },
               "config key 'data.crop_min_area': expected a fraction in (0, 1], got 0.0");
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"data.sampling=middle"}); }, "data.sampling");
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"schedule.cosine_end_epoch=9"}); },
               "schedule.cosine_end_epoch");
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"checkpoint.keep_last=0"}); },
               "config key 'checkpoint.keep_last': expected an integer >= 1, got 0");
}

// Validation off (eval.annotations ''): the eval section's values are unused, so they cannot fail a run.
TEST(TrainConfig, DisabledValidationSectionIsNotChecked) {
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"eval.num_frames=9"}); },
               "config key 'eval.num_frames': expected at most model.adapter.max_frames (8), got 9");
  expect_error([&] { load_train_config(config_path("tiny.yaml"), {"eval.batch_size=0"}); },
               "config key 'eval.batch_size'");
  const TrainConfig off = load_train_config(config_path("tiny.yaml"),
                                            {"eval.annotations=\"\"", "eval.num_frames=9", "eval.batch_size=0"});
  EXPECT_EQ(off.eval.num_frames, 9);
  EXPECT_EQ(off.eval.annotations, "");
}

TEST(TrainConfig, EveryKeyIsDocumentedOnce) {
  auto reference = config_reference();
  std::set<std::string> keys;
  for (const auto& k : reference) {
    EXPECT_TRUE(keys.insert(k.key).second) << "duplicate " << k.key;
    EXPECT_FALSE(k.doc.empty()) << k.key;
    EXPECT_FALSE(k.type.empty()) << k.key;
  }
  EXPECT_GT(reference.size(), 70u);
  auto markdown = config_reference_markdown();
  EXPECT_CONTAINS(markdown, "| `optim.lr` | float | `2e-06` | base (peak) learning rate |");
  EXPECT_CONTAINS(markdown, "| `loss.gather` | sum | official | `sum` |");
}

// The model section mirrors ModelConfig: a field added there must be registered here too.
TEST(TrainConfig, ModelSectionCoversEveryModelConfigField) {
  std::set<std::string> registered;
  for (const auto& k : config_reference()) registered.insert(k.key);
  std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& j,
                                                                             const std::string& prefix) {
    for (const auto& item : j.items()) {
      const std::string key = prefix + item.key();
      if (item.value().is_object()) walk(item.value(), key + ".");
      else EXPECT_TRUE(registered.count(key)) << key << " is in ModelConfig but not in the training config";
    }
  };
  walk(nlohmann::json::parse(model_config_to_json(ModelConfig{})), "model.");
}
