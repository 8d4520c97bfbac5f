// Loading the conversation vision tower and the projector: the released file layouts, absent balances,
// strict key checks naming the file, heads from config.json.

#include "conversation_fixture.h"

#include "btadapter/chat/video_tower_weights.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace btadapter::testing {
namespace {

const std::string kSft = "model.vision_tower.";

io::TensorMap fixture_adapter() { return io::read_safetensors(conversation_fixture().file("btadapter.safetensors")); }
std::string fixture_clip() { return conversation_fixture().file("vision_tower_clip.safetensors"); }

void write_torch_save(const std::filesystem::path& path, const io::TensorMap& tensors, bool mmengine = false) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  for (const auto& [k, t] : tensors) dict.insert(k, t);
  c10::IValue root = dict;
  if (mmengine) {
    c10::impl::GenericDict outer(c10::StringType::get(), c10::AnyType::get());
    outer.insert("state_dict", dict);
    root = outer;
  }
  const std::vector<char> bytes = torch::pickle_save(root);
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

torch::Tensor tokens_of(const std::string& clip, const std::string& adapter,
                        const chat::VideoTowerLoadOptions& options = {}) {
  return chat::load_video_tower(clip, adapter, options)->video_tokens(conversation_fixture().in("inf.frames"));
}

TEST(VideoTowerWeights, ReleasedSftBinInFloat16Loads) {
  // sft_btadapter_weight.bin: torch.save of a float16 dict with the model.vision_tower. prefix.
  TempDir dir;
  io::TensorMap half;
  for (const auto& [k, t] : fixture_adapter()) half[k] = t.to(torch::kHalf);  // the fixture weights are fp16-exact
  write_torch_save(dir / "sft_btadapter_weight.bin", half);
  const auto tokens = tokens_of(fixture_clip(), (dir / "sft_btadapter_weight.bin").string());
  expect_fixture_match("inf.video_tokens", tokens);
  EXPECT_TRUE(torch::equal(tokens, tokens_of(fixture_clip(), conversation_fixture().file("btadapter.safetensors"))));
}

TEST(VideoTowerWeights, PretrainingCheckpointNamesLoad) {
  // backbone. prefix, legacy timesFPN, an mmengine state_dict, plus keys outside the backbone (skipped)
  // and the dead adapter layer 3 (skipped).
  TempDir dir;
  io::TensorMap ckpt;
  for (const auto& [k, t] : fixture_adapter()) {
    std::string name = "backbone." + k.substr(kSft.size());
    if (name.find("btadapter_T_layers") != std::string::npos) name.replace(name.find("btadapter"), 9, "timesFPN");
    ckpt[name] = t;
    if (k.find("btadapter_S_layers.0.") != std::string::npos) {
      ckpt["backbone.btadapter_S_layers.3." + k.substr(kSft.size() + std::string("btadapter_S_layers.0.").size())] = t;
    }
  }
  ckpt["text_backbone.text_model.final_layer_norm.weight"] = torch::ones({8});
  ckpt["logit_scale"] = torch::ones({1});
  write_torch_save(dir / "pretrain.pth", ckpt, /*mmengine=*/true);
  expect_fixture_match("inf.video_tokens", tokens_of(fixture_clip(), (dir / "pretrain.pth").string()));
}

TEST(VideoTowerWeights, AbsentBalancesAreZerosSoTheGateIsOneHalf) {
  TempDir dir;
  io::TensorMap without, zeroed;
  for (const auto& [k, t] : fixture_adapter()) {
    const bool balance = k.find("balance") != std::string::npos;
    if (!balance) without[k] = t;
    zeroed[k] = balance ? torch::zeros_like(t) : t;
  }
  io::write_safetensors((dir / "without.safetensors").string(), without);
  io::write_safetensors((dir / "zeroed.safetensors").string(), zeroed);
  auto tower = chat::load_video_tower(fixture_clip(), (dir / "without.safetensors").string());
  EXPECT_TRUE(torch::equal(tower->balance2, torch::zeros({tower->options().width()})));
  const auto tokens = tower->video_tokens(conversation_fixture().in("inf.frames"));
  EXPECT_TRUE(torch::equal(tokens, tokens_of(fixture_clip(), (dir / "zeroed.safetensors").string())));
  const bool fixture_has_balance = fixture_adapter().count(kSft + "balance2") > 0;
  if (fixture_has_balance) {
    EXPECT_GT(max_abs_diff(tokens, conversation_fixture().exp("inf.video_tokens")), 1e-4);  // the gate matters
  } else {
    expect_fixture_match("inf.video_tokens", tokens);
  }
}

TEST(VideoTowerWeights, EveryBadKeyIsListedInOneErrorNamingItsFile) {
  TempDir dir;
  io::TensorMap bad = fixture_adapter();
  bad.erase(kSft + "btadapter_S_layers.1.mlp.fc2.bias");
  bad[kSft + "btadapter_time_embed.weight"] = torch::zeros({32, 7});
  bad[kSft + "btadapter_extra.weight"] = torch::zeros({2});
  bad["something_else"] = torch::zeros({2});
  const std::string path = (dir / "bad.safetensors").string();
  io::write_safetensors(path, bad);
  expect_error([&] { chat::load_video_tower(fixture_clip(), path); },
               {"4 problem(s)", "missing in '" + path + "': btadapter_S_layers.1.mlp.fc2.bias",
                "shape mismatch in '" + path + "': " + kSft + "btadapter_time_embed.weight: tower [32, ",
                "unexpected in '" + path + "': " + kSft + "btadapter_extra.weight",
                "unexpected in '" + path + "': something_else"});

  // A CLIP file without a layer the tower needs.
  io::TensorMap clip = io::read_safetensors(fixture_clip());
  clip.erase("vision_model.encoder.layers.1.layer_norm2.weight");
  const std::string clip_path = (dir / "clip.safetensors").string();
  io::write_safetensors(clip_path, clip);
  expect_error([&] { chat::load_video_tower(clip_path, conversation_fixture().file("btadapter.safetensors")); },
               "missing in '" + clip_path + "': layers.1.layer_norm2.weight");
}

TEST(VideoTowerWeights, HeadsComeFromConfigJsonOrTheOptions) {
  TempDir dir;
  std::filesystem::create_directory(dir / "clip");
  std::filesystem::copy_file(fixture_clip(), dir / "clip" / "model.safetensors");
  const auto adapter = conversation_fixture().file("btadapter.safetensors");
  const int64_t heads = conversation_fixture().config.at("vision_tower").at("clip").at("num_attention_heads");
  // No config: width / 64.
  const int64_t width = chat::infer_video_tower_options((dir / "clip").string(), adapter).width();
  EXPECT_EQ(chat::infer_video_tower_options((dir / "clip").string(), adapter).heads(), std::max<int64_t>(1, width / 64));
  std::ofstream(dir / "clip" / "config.json")
      << R"({"model_type": "clip_vision_model", "hidden_act": "quick_gelu", "num_attention_heads": )" << heads << "}";
  expect_fixture_match("inf.video_tokens", tokens_of((dir / "clip").string(), adapter));
  EXPECT_EQ(chat::infer_video_tower_options((dir / "clip").string(), adapter, chat::VideoTowerLoadOptions().heads(1))
                .heads(),
            1);
  std::ofstream(dir / "clip" / "config.json") << R"({"vision_config": {"hidden_act": "gelu"}})";
  expect_error([&] { chat::infer_video_tower_options((dir / "clip").string(), adapter); },
               "expected hidden_act quick_gelu (CLIP), got gelu");
}

TEST(VideoTowerWeights, ProjectorFileWithAndWithoutEmbedTokens) {
  TempDir dir;
  auto proj = io::read_safetensors(conversation_fixture().file("mm_projector.safetensors"));
  const auto loaded = chat::load_projector(conversation_fixture().file("mm_projector.safetensors"));
  EXPECT_TRUE(torch::equal(loaded.mm_projector->weight, proj.at("model.mm_projector.weight")));
  EXPECT_TRUE(torch::equal(loaded.mm_projector->bias, proj.at("model.mm_projector.bias")));
  EXPECT_FALSE(loaded.embed_tokens.defined());
  proj["model.embed_tokens.weight"] = torch::randn({5, proj.at("model.mm_projector.weight").size(0)});
  write_torch_save(dir / "sft_mm_projector.bin", proj);
  const auto with_embed = chat::load_projector((dir / "sft_mm_projector.bin").string());
  EXPECT_TRUE(torch::equal(with_embed.embed_tokens, proj.at("model.embed_tokens.weight")));
  proj.erase("model.mm_projector.bias");
  proj["model.layers.0.mlp.up_proj.weight"] = torch::zeros({2, 2});
  write_torch_save(dir / "bad.bin", proj);
  expect_error([&] { chat::load_projector((dir / "bad.bin").string()); },
               {"'" + (dir / "bad.bin").string() + "' is not an mm_projector file",
                "unexpected: model.layers.0.mlp.up_proj.weight", "missing: model.mm_projector.bias"});
}

}  // namespace
}  // namespace btadapter::testing
