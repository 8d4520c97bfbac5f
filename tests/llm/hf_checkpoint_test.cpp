// llm/hf_checkpoint.h and config/llama_config.h: folders with single and sharded safetensors / torch.save
// weights load identically to the fixture file; missing shards, foreign keys and bad configs are named.

#include "btadapter/llm/hf_checkpoint.h"
#include "llm_fixture.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <filesystem>
#include <fstream>

namespace btadapter::testing {
namespace {

using namespace btadapter::llm;
using btadapter::testing::expect_error;
namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// The fixture's `llm` section as a plain HF config.json.
std::string hf_config_text() { return llm_fixture().config["llm"].dump(); }

// The fixture's weights split into two shards (layer 0 + embeddings / the rest) with an index.
void write_sharded(const fs::path& dir, bool safetensors, bool with_inv_freq = false) {
  fs::create_directories(dir);
  write_text(dir / "config.json", hf_config_text());
  const auto weights = io::read_safetensors(llm_fixture().llama_file);
  io::TensorMap shard[2];
  for (const auto& [name, t] : weights) shard[name.find("layers.1.") == std::string::npos ? 0 : 1][name] = t;
  if (with_inv_freq) shard[1]["model.layers.1.self_attn.rotary_emb.inv_freq"] = torch::ones({8});
  const std::string ext = safetensors ? ".safetensors" : ".bin";
  const std::string stem = safetensors ? "model" : "pytorch_model";
  nlohmann::json map;
  for (int i = 0; i < 2; ++i) {
    const std::string file = stem + "-0000" + std::to_string(i + 1) + "-of-00002" + ext;
    if (safetensors) {
      io::write_safetensors((dir / file).string(), shard[i]);
    } else {
      c10::Dict<std::string, torch::Tensor> dict;
      for (const auto& [name, t] : shard[i]) dict.insert(name, t);
      const auto bytes = torch::pickle_save(dict);
      std::ofstream(dir / file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    for (const auto& [name, t] : shard[i]) map[name] = file;
  }
  write_text(dir / (stem + ext + ".index.json"), nlohmann::json{{"metadata", {}}, {"weight_map", map}}.dump());
}

void expect_same_weights(LlamaForCausalLM& a, LlamaForCausalLM& b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

TEST(HfCheckpoint, FixtureFileUsesTheLlmSectionOfItsConfig) {
  const auto files = resolve_llama_files(llm_fixture().llama_file);
  EXPECT_EQ(fs::path(files.config).filename(), "config.json");
  auto model = fixture_llama();
  EXPECT_EQ(model->config().vocab_size, 336);
  EXPECT_EQ(model->config().num_key_value_heads, model->config().num_attention_heads);
  const auto weights = io::read_safetensors(llm_fixture().llama_file);
  for (const auto& item : model->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), weights.at(item.key()))) << item.key();
  }
}

TEST(HfCheckpoint, ShardedFoldersLoadIdentically) {
  TempDir tmp;
  auto reference = fixture_llama();
  for (const bool safetensors : {true, false}) {
    const auto dir = tmp / (safetensors ? "st" : "bin");
    write_sharded(dir, safetensors, /*with_inv_freq=*/true);
    EXPECT_EQ(resolve_llama_files(dir.string()).weights.size(), 2u);
    auto model = load_llama(dir.string());
    expect_same_weights(model, reference);
  }
}

TEST(HfCheckpoint, SingleFileFolderAndDtypeConversion) {
  TempDir tmp;
  write_text(tmp / "config.json", hf_config_text());
  fs::copy_file(llm_fixture().llama_file, tmp / "model.safetensors");
  auto model = load_llama(tmp.path().string(), LlamaLoadOptions().dtype(torch::kBFloat16));
  const auto weights = io::read_safetensors(llm_fixture().llama_file);
  const auto params = model->named_parameters();  // operator[] returns a reference into this dict
  const auto& w = params["lm_head.weight"];
  EXPECT_EQ(w.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(w, weights.at("lm_head.weight").to(torch::kBFloat16)));
}

TEST(HfCheckpoint, MissingShardIsNamed) {
  TempDir tmp;
  write_sharded(tmp.path(), true);
  fs::remove(tmp / "model-00002-of-00002.safetensors");
  expect_error([&] { load_llama(tmp.path().string()); }, "the shard 'model-00002-of-00002.safetensors'");
}

TEST(HfCheckpoint, StrictKeysListEveryProblem) {
  TempDir tmp;
  write_text(tmp / "config.json", hf_config_text());
  auto weights = io::read_safetensors(llm_fixture().llama_file);
  weights.erase("model.norm.weight");
  weights["model.layers.0.self_attn.q_proj.bias"] = torch::zeros({64});
  weights["lm_head.weight"] = torch::zeros({10, 64});
  io::write_safetensors((tmp / "model.safetensors").string(), weights);
  expect_error(
      [&] { load_llama(tmp.path().string()); },
      {"missing:\n    model.norm.weight", "model.layers.0.self_attn.q_proj.bias", "lm_head.weight: model [336, 64]"});
}

TEST(HfCheckpoint, FolderWithoutWeightsOrConfig) {
  TempDir tmp;
  expect_error([&] { load_llama(tmp.path().string()); }, "has no config.json");
  write_text(tmp / "config.json", hf_config_text());
  expect_error([&] { load_llama(tmp.path().string()); }, "has no weights (looked for model.safetensors.index.json");
}

TEST(LlamaConfig, ParsesHfKeysAndDefaults) {
  const auto c = parse_llama_config(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 100,
      "rope_theta": 500000.0, "torch_dtype": "float16", "pad_token_id": null})",
                                    "test.json");
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim(), 8);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_EQ(c.pad_token_id, -1);
  EXPECT_EQ(c.torch_dtype, "float16");
  const auto fixture = read_llama_config(llm_fixture().config_file);
  EXPECT_EQ(fixture.intermediate_size, 176);
  EXPECT_DOUBLE_EQ(fixture.rope_theta, 10000.0);
}

TEST(LlamaConfig, ErrorsNameFileAndKey) {
  const std::string base = R"("intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 100)";
  expect_error([&] { parse_llama_config("{" + base + R"(, "hidden_size": 64})", "c.json"); },
               "c.json: missing required key 'num_attention_heads'");
  expect_error([&] { parse_llama_config("{" + base + R"(, "hidden_size": 64, "num_attention_heads": 6})", "c.json"); },
               "c.json: expected 'hidden_size' (64) divisible by 'num_attention_heads' (6)");
  expect_error([&] {
    parse_llama_config("{" + base + R"(, "hidden_size": 64, "num_attention_heads": 8, "num_key_value_heads": 3})",
                       "c.json");
  }, "multiple of 'num_key_value_heads' (3)");
  expect_error([&] { parse_llama_config("{" + base + R"(, "hidden_size": "64", "num_attention_heads": 8})", "c.json"); },
               "c.json: expected 'hidden_size' to be an integer");
  expect_error([&] {
    parse_llama_config("{" + base + R"(, "hidden_size": 64, "num_attention_heads": 8, "hidden_act": "gelu"})", "c.json");
  }, "c.json: expected 'hidden_act' \"silu\"");
  expect_error([] { read_llama_config("/nonexistent/config.json"); }, "cannot open the LLaMA config");
}

}  // namespace
}  // namespace btadapter::testing
