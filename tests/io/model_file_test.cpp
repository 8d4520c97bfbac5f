#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "btadapter/io/config_inference.h"
#include "btadapter/io/model_file.h"
#include "btadapter/io/weight_naming.h"
#include "io_test_helpers.h"

using namespace btadapter;
using namespace btadapter::io;
using namespace btadapter::io::testing;
using btadapter::testing::TempDir;

namespace {

ModelConfig model_file_config() {
  ModelConfig c;
  c.embed_dim = 32;
  c.vision.width = 64;
  c.vision.layers = 6;
  c.vision.heads = 4;
  c.vision.patch_size = 8;
  c.vision.image_size = 32;
  c.vision.mlp_dim = 256;
  c.text.width = 16;
  c.text.heads = 2;
  c.text.layers = 3;
  c.text.mlp_dim = 64;
  c.adapter.depth = 2;
  c.tokenizer.truncate = "official:32";
  return c;
}

}  // namespace

TEST(ModelFile, RoundTripsConfigTensorsAndMetadata) {
  TempDir dir;
  const std::string path = (dir / "model.safetensors").string();
  TensorMap tensors = to_canonical(tiny_a("weights_hf.safetensors"));
  const TensorMap adapter = to_canonical(tiny_a("adapter.safetensors"));
  tensors.insert(adapter.begin(), adapter.end());
  const ModelConfig config = model_file_config();
  save_model_file(path, config, tensors, {{"source", "unit test"}});

  const ModelFile file = load_model_file(path);
  EXPECT_EQ(model_config_to_json(file.config), model_config_to_json(config));
  expect_identical(file.tensors, tensors);
  EXPECT_EQ(file.metadata.at("source"), "unit test");
  EXPECT_EQ(file.metadata.at(kModelFormatVersionKey), "1");
  EXPECT_EQ(file.metadata.at(kModelConfigKey), model_config_to_json(config));
  EXPECT_EQ(model_config_to_json(read_model_config(path)), model_config_to_json(config));
  // The stored shapes agree with the stored config.
  const ModelConfig inferred = infer_model_config(file.tensors, InferConfigOptions().vision_heads(4).text_heads(2).base(file.config));
  EXPECT_EQ(model_config_to_json(inferred), model_config_to_json(config));
}

TEST(ModelFile, PlainOrDamagedMetadataIsRejectedWithTheFileName) {
  TempDir dir;
  const std::string path = (dir / "m.safetensors").string();
  const TensorMap tensors = {{"x", torch::ones({1})}};
  write_safetensors(path, tensors);
  expect_error([&] { load_model_file(path); }, "'" + path +
                                                   "' is not a btadapter model file: metadata key "
                                                   "'btadapter.config' is missing");
  expect_error([&] { read_model_config(path); }, "metadata key 'btadapter.config' is missing");

  const std::string json = model_config_to_json(model_file_config());
  write_safetensors(path, tensors, {{kModelConfigKey, json}});
  expect_error([&] { load_model_file(path); }, "metadata key 'btadapter.format_version' is missing");
  write_safetensors(path, tensors, {{kModelConfigKey, json}, {kModelFormatVersionKey, "1a"}});
  expect_error([&] { load_model_file(path); }, "expected an integer btadapter.format_version, got '1a'");
  write_safetensors(path, tensors, {{kModelConfigKey, json}, {kModelFormatVersionKey, "2"}});
  expect_error([&] { load_model_file(path); },
               "format version 2 is not supported (this library reads versions 1 to 1)");
  write_safetensors(path, tensors, {{kModelConfigKey, R"({"vision": {"widht": 3}})"}, {kModelFormatVersionKey, "1"}});
  expect_error([&] { load_model_file(path); }, "model file '" + path + "': model config: unknown key 'vision.widht'");
}

TEST(ModelFile, SaveRejectsReservedKeysAndInvalidConfigsWithoutWriting) {
  TempDir dir;
  const std::string path = (dir / "m.safetensors").string();
  expect_error(
      [&] {
        save_model_file(path, model_file_config(), {}, {{kModelConfigKey, "{}"}});
      },
      "metadata key 'btadapter.config' is reserved");
  ModelConfig bad = model_file_config();
  bad.vision.heads = 3;
  expect_error([&] { save_model_file(path, bad, {}); }, "divisible by vision.heads (3)");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ModelFile, EveryFlippedDataByteFailsTheStoredChecksum) {
  TempDir dir;
  const std::string path = (dir / "model.safetensors").string();
  const TensorMap tensors = {{"a", torch::arange(64, torch::kFloat)}, {"b", torch::ones({4, 4}, torch::kHalf)},
                             {"extra_proj.weight", torch::full({8}, 0.5)}};
  save_model_file(path, model_file_config(), tensors);
  EXPECT_EQ(load_model_file(path).metadata.at(kModelChecksumKey), tensors_sha256(tensors));
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  const size_t data = 8 + header, n = bytes.size() - data;
  ASSERT_EQ(n, 64u * 4 + 16 * 2 + 8 * 4);
  int refused = 0;
  for (size_t i = 0; i < n; i += 7) {  // every tensor, extra_proj included (the golden check never reads it)
    std::string bad = bytes;
    bad[data + i] ^= static_cast<char>(1 << (i % 8));
    const std::string mutant = (dir / "flipped.safetensors").string();
    std::ofstream(mutant, std::ios::binary).write(bad.data(), static_cast<std::streamsize>(bad.size()));
    expect_error([&] { load_model_file(mutant); }, "model file '" + mutant + "': the tensors do not match");
    EXPECT_NO_THROW(load_model_file(mutant, /*verify_checksum=*/false));
    ++refused;
  }
  EXPECT_EQ(refused, static_cast<int>((n + 6) / 7));
  // Same bytes under other names (swapped offsets) or another dtype of the same size fail it too.
  Metadata metadata = load_model_file(path).metadata;
  write_safetensors(path, {{"a", tensors.at("a")}, {"b", tensors.at("b")},
                           {"extra_proj.weight", tensors.at("extra_proj.weight").view(torch::kInt32)}}, metadata);
  expect_error([&] { load_model_file(path); }, "the tensors do not match their checksum");
  expect_error([&] { save_model_file(path, model_file_config(), tensors, {{kModelChecksumKey, "x"}}); },
               "metadata key 'btadapter.tensors_sha256' is reserved");
}
