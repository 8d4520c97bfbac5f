// Export / import (api/model_export.h, bt_export): official key naming, reload with identical embeddings,
// reduced-precision files, golden embeddings catching a damaged file, the tokenizer reference.
#include "btadapter/api/model_export.h"

#include "api_test_helpers.h"
#include "btadapter/api/golden.h"
#include "btadapter/io/model_file.h"
#include "btadapter/io/weight_naming.h"
#include "btadapter/io/weights_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace btadapter {
namespace {

using namespace btadapter::testing;
using btadapter::testing::expect_error;
namespace fs = std::filesystem;

torch::Tensor fixture_video() {
  return io::read_safetensors(fixture_path("parity/tiny_a/inputs.safetensors").string()).at("video");
}

const std::vector<std::string> kTexts{"a man is slicing tomatoes in a kitchen", "two dogs chase a red ball"};

TEST(ApiExport, OfficialImportKeepsTheOfficialKeysAndReloadsIdentically) {
  TempDir dir;
  const std::string out = (dir / "tiny.safetensors").string();
  const auto source = Model::load(tiny_official(), tiny_options());
  const auto summary = api::export_model(*source, out);
  EXPECT_TRUE(summary.golden);

  // Every key of the official state dict, unchanged (the Python code loads this file directly).
  std::set<std::string> official, exported;
  for (const auto& [name, t] : io::read_weights_file(tiny_official()).tensors) official.insert(name);
  for (const auto& [name, t] : io::read_safetensors(out)) exported.insert(name);
  EXPECT_EQ(exported, official);
  EXPECT_EQ(summary.tensors, static_cast<int64_t>(official.size()));

  const auto reloaded = Model::load(out);  // config, heads and vocabulary come from the file
  EXPECT_EQ(reloaded->config().vision.heads, 4);
  EXPECT_EQ(reloaded->config().text.heads, 2);
  EXPECT_EQ(reloaded->metadata().at("format"), "pt");
  EXPECT_TRUE(torch::equal(reloaded->encode_videos(fixture_video()), source->encode_videos(fixture_video())));
  EXPECT_TRUE(torch::equal(reloaded->encode_texts(kTexts), source->encode_texts(kTexts)));
}

TEST(ApiExport, ClipImportBecomesADepthZeroModelFile) {
  TempDir dir;
  const std::string out = (dir / "clip.safetensors").string();
  const auto source = Model::load(tiny_clip(), tiny_options().truncate("official:32"));
  api::export_model(*source, out);
  const auto reloaded = Model::load(out);
  EXPECT_EQ(reloaded->config().adapter.depth, 0);
  EXPECT_EQ(reloaded->config().tokenizer.truncate, "official:32");
  EXPECT_EQ(reloaded->tokenize({"a"}).size(1), 32);
  EXPECT_TRUE(torch::equal(reloaded->encode_videos(fixture_video()), source->encode_videos(fixture_video())));
}

TEST(ApiExport, HalfPrecisionFilesStoreHalfAndStayClose) {
  TempDir dir;
  const auto source = Model::load(tiny_official(), tiny_options());
  for (auto dtype : {torch::kHalf, torch::kBFloat16}) {
    const std::string out = (dir / ("m_" + dtype_name(dtype) + ".safetensors")).string();
    api::export_model(*source, out, api::ExportOptions().dtype(dtype));
    io::Metadata metadata;
    const auto tensors = io::read_safetensors(out, &metadata);
    EXPECT_EQ(tensors.at("backbone.patch_embedding.weight").scalar_type(), dtype);
    EXPECT_EQ(metadata.at("btadapter.weights_dtype"), dtype_name(dtype));
    const auto reloaded = Model::load(out);  // golden embeddings made from the rounded weights verify in fp32
    const auto a = reloaded->encode_videos(fixture_video()), b = source->encode_videos(fixture_video());
    for (int64_t i = 0; i < 2; ++i) EXPECT_GT(cosine(a[i], b[i]), 0.99);
  }
}

TEST(ApiExport, GoldenEmbeddingsCatchDamagedWeights) {
  TempDir dir;
  const std::string out = (dir / "m.safetensors").string();
  api::export_model(*Model::load(tiny_official(), tiny_options()), out);
  io::Metadata metadata;
  auto tensors = io::read_safetensors(out, &metadata);
  ASSERT_EQ(metadata.count(api::kGoldenKey), 1u);
  tensors["backbone.visual_projection.weight"] = -tensors["backbone.visual_projection.weight"];
  const std::string damaged = (dir / "damaged.safetensors").string();
  io::write_safetensors(damaged, tensors, metadata);

  // The stored checksum refuses the file first; without it the golden embeddings still do.
  expect_error([&] { Model::load(damaged); }, "the tensors do not match their checksum");
  expect_error([&] { Model::load(damaged, LoadOptions().verify_checksum(false)); },
               "golden check failed: video embedding 0 has cosine similarity -1");
  EXPECT_NO_THROW(Model::load(damaged, LoadOptions().verify_golden(false).verify_checksum(false)));

  // A different vocabulary changes the text ids: the text embeddings no longer match.
  tensors["backbone.visual_projection.weight"] = -tensors["backbone.visual_projection.weight"];
  auto golden = api::golden_from_json(metadata.at(api::kGoldenKey), out);
  golden.text = golden.text.flip(0);
  metadata[api::kGoldenKey] = api::golden_to_json(golden);
  io::write_safetensors(damaged, tensors, metadata);
  expect_error([&] { Model::load(damaged); }, "golden check failed: text embedding");
}

TEST(ApiExport, VocabularyIsFoundBesideAMovedModelFile) {
  TempDir dir;
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  fs::copy_file(clip_vocab(), dir / "a" / "bpe_simple_vocab_16e6.txt.gz");
  api::export_model(*Model::load(tiny_clip(), tiny_options().vocab((dir / "a" / "bpe_simple_vocab_16e6.txt.gz").string())),
                    (dir / "a" / "m.safetensors").string());
  fs::rename(dir / "a" / "m.safetensors", dir / "b" / "m.safetensors");
  fs::rename(dir / "a" / "bpe_simple_vocab_16e6.txt.gz", dir / "b" / "bpe_simple_vocab_16e6.txt.gz");
  const auto moved = Model::load((dir / "b" / "m.safetensors").string());
  EXPECT_EQ(fs::path(moved->vocab_path()), dir / "b" / "bpe_simple_vocab_16e6.txt.gz");
  EXPECT_EQ(moved->metadata().at("btadapter.tokenizer.vocab_file"), "bpe_simple_vocab_16e6.txt.gz");
  fs::remove(dir / "b" / "bpe_simple_vocab_16e6.txt.gz");
  expect_error([&] { Model::load((dir / "b" / "m.safetensors").string()); }, "not found (tried");
}

TEST(ApiExport, ReservedMetadataAndBadDtypeAreRejected) {
  TempDir dir;
  const auto model = Model::load(tiny_clip(), tiny_options());
  const std::string out = (dir / "m.safetensors").string();
  expect_error(
      [&] {
        api::export_model(*model, out, api::ExportOptions().metadata({{"btadapter.x", "1"}}));
      },
      "metadata key 'btadapter.x' is reserved");
  expect_error([&] { api::export_model(*model, out, api::ExportOptions().dtype(torch::kDouble)); },
               "expected dtype float32, float16 or bfloat16");
  EXPECT_FALSE(fs::exists(out));
}

TEST(BtExport, ImportsOfficialWeightsEndToEnd) {
  TempDir dir;
  const std::string out = (dir / "tiny.safetensors").string();
  const auto r = run_command(tool_path("bt_export").string() + " --import " + tiny_official() + " --vocab " +
                             clip_vocab() + " --vision-heads 4 --text-heads 2 --dtype bfloat16 --meta origin=test -o " +
                             out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"tensors\":"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"reloaded\":true"), std::string::npos) << r.output;
  const auto model = Model::load(out);
  EXPECT_EQ(model->metadata().at("origin"), "test");
  EXPECT_EQ(model->config().adapter.depth, 2);
}

TEST(BtExport, BadInputsFailWithOneLine) {
  TempDir dir;
  const auto missing = run_command(tool_path("bt_export").string() + " -i /nonexistent.pth -o " +
                                   (dir / "x.safetensors").string());
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_EQ(missing.output, "bt_export: model file '/nonexistent.pth' does not exist\n");
  const auto no_vocab = run_command(tool_path("bt_export").string() + " -i " + tiny_clip() + " -o " +
                                    (dir / "x.safetensors").string());
  EXPECT_NE(no_vocab.exit_code, 0);
  EXPECT_NE(no_vocab.output.find("names no tokenizer vocabulary"), std::string::npos) << no_vocab.output;
  EXPECT_FALSE(fs::exists(dir / "x.safetensors"));
}

}  // namespace
}  // namespace btadapter
