#include <gtest/gtest.h>

#include <torch/serialize.h>

#include <fstream>

#include "btadapter/io/weight_naming.h"
#include "btadapter/io/weights_file.h"
#include "io_test_helpers.h"

using namespace btadapter::io;
using namespace btadapter::io::testing;
using btadapter::testing::TempDir;

namespace {

std::string tiny_a_file(const std::string& name) {
  return btadapter::testing::fixture_path("parity/tiny_a/" + name).string();
}

void write_bytes(const std::filesystem::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A Python-like dict (str -> any), as torch.save writes.
c10::impl::GenericDict make_dict() { return c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get()); }

}  // namespace

TEST(CheckpointFile, TorchScriptFixtureHoldsTheOpenAIWeightsRoundedToFp16) {
  const std::string path = tiny_a_file("openai_jit.pt");
  EXPECT_EQ(detect_weights_format(path), WeightsFormat::kTorchScript);
  const WeightsFile ckpt = read_weights_file(path);
  EXPECT_EQ(ckpt.format, WeightsFormat::kTorchScript);
  const TensorMap expected = tiny_a("weights_openai.safetensors");
  ASSERT_EQ(keys_of(ckpt.tensors), keys_of(expected));  // input_resolution & co. left out
  for (const auto& [name, t] : expected) {
    const torch::Tensor& got = ckpt.tensors.at(name);
    EXPECT_EQ(got.scalar_type(), torch::kFloat) << name;
    EXPECT_FALSE(got.requires_grad()) << name;
    EXPECT_TRUE(torch::equal(got, t.to(torch::kHalf).to(torch::kFloat))) << name;
  }
}

TEST(CheckpointFile, HuggingFaceBinHoldsTheHuggingFaceWeights) {
  const std::string path = tiny_a_file("hf_pytorch_model.bin");
  EXPECT_EQ(detect_weights_format(path), WeightsFormat::kTorchSave);
  WeightsFile ckpt = read_weights_file(path);
  EXPECT_TRUE(ckpt.metadata.empty());
  // The .bin also carries the (ignored) position_ids buffers.
  const torch::Tensor ids = ckpt.tensors.at("vision_model.embeddings.position_ids");
  EXPECT_TRUE(torch::equal(ids, torch::arange(17).unsqueeze(0)));
  ckpt.tensors.erase("vision_model.embeddings.position_ids");
  ckpt.tensors.erase("text_model.embeddings.position_ids");
  expect_identical(ckpt.tensors, tiny_a("weights_hf.safetensors"));
}

TEST(CheckpointFile, OfficialPthIsTheCanonicalClipPlusAdapter) {
  const std::string path = tiny_a_file("official_checkpoint.pth");
  const WeightsFile ckpt = read_weights_file(path);
  EXPECT_EQ(ckpt.format, WeightsFormat::kTorchSave);
  EXPECT_EQ(ckpt.metadata.at("meta.epoch"), "1");
  EXPECT_EQ(ckpt.metadata.at("meta.note"), "plain-type stand-in for an mmengine checkpoint");
  EXPECT_EQ(detect_naming(ckpt.tensors), WeightNaming::kOfficial);

  TensorMap expected = to_canonical(tiny_a("weights_hf.safetensors"));
  const TensorMap adapter = to_canonical(tiny_a("adapter.safetensors"));
  expected.insert(adapter.begin(), adapter.end());
  expect_identical(ckpt.tensors, expected);
  // Every container of the same weights yields the same canonical map.
  expect_identical(read_canonical_weights(path), expected);
  expect_identical(read_canonical_weights(tiny_a_file("openai_jit.pt")),
                   to_canonical(read_weights_file(tiny_a_file("openai_jit.pt")).tensors));
}

TEST(CheckpointFile, SafetensorsIsReadWithItsMetadata) {
  const WeightsFile ckpt = read_weights_file(tiny_a_file("weights_hf.safetensors"));
  EXPECT_EQ(ckpt.format, WeightsFormat::kSafetensors);
  EXPECT_EQ(ckpt.metadata.at("naming"), "huggingface");
  EXPECT_EQ(ckpt.tensors.size(), 158u);
}

TEST(CheckpointFile, TorchSaveDictsAndNestedMetadata) {
  TempDir dir;
  // {"state_dict": {"a": tensor, "step": 7}, "meta": {"epoch": 3, "cfg": {"lr": 0.5, "name": "x"}}}
  auto cfg = make_dict();
  cfg.insert("lr", 0.5);
  cfg.insert("name", std::string("x"));
  auto meta = make_dict();
  meta.insert("epoch", int64_t(3));
  meta.insert("cfg", cfg);
  auto state = make_dict();
  state.insert("a", torch::arange(4, torch::kFloat));
  state.insert("step", int64_t(7));
  auto root = make_dict();
  root.insert("meta", meta);
  root.insert("state_dict", state);
  write_bytes(dir / "mm.pth", torch::pickle_save(root));

  const WeightsFile ckpt = read_weights_file((dir / "mm.pth").string());
  ASSERT_EQ(keys_of(ckpt.tensors), std::vector<std::string>{"a"});
  EXPECT_TRUE(torch::equal(ckpt.tensors.at("a"), torch::arange(4, torch::kFloat)));
  EXPECT_EQ(ckpt.metadata, (Metadata{{"meta.epoch", "3"}, {"meta.cfg.lr", "0.5"}, {"meta.cfg.name", "x"},
                                     {"state_dict.step", "7"}}));

  // A plain dict of tensors.
  auto plain = make_dict();
  plain.insert("w", torch::ones({2, 2}));
  write_bytes(dir / "plain.bin", torch::pickle_save(plain));
  EXPECT_EQ(keys_of(read_weights_file((dir / "plain.bin").string()).tensors), std::vector<std::string>{"w"});
}

TEST(CheckpointFile, UnreadableFilesNameTheFileAndTheProblem) {
  TempDir dir;
  const auto p = [&](const std::string& name) { return (dir / name).string(); };
  write_bytes(dir / "list.pth", torch::pickle_save(c10::List<int64_t>({1, 2})));
  expect_error([&] { read_weights_file(p("list.pth")); },
               "torch.save file '" + p("list.pth") + "': expected a dict of tensors, got list");
  write_bytes(dir / "legacy.pt", {'\x80', '\x02', 'c', 'x'});
  expect_error([&] { read_weights_file(p("legacy.pt")); }, "'" + p("legacy.pt") + "' is a legacy (non-zip) torch.save");
  write_bytes(dir / "text.bin", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  expect_error([&] { read_weights_file(p("text.bin")); }, "unrecognised first bytes");
  write_bytes(dir / "fake.zip", {'P', 'K', '\x03', '\x04', 'j', 'u', 'n', 'k'});
  expect_error([&] { read_weights_file(p("fake.zip")); }, "is a zip archive but not a readable PyTorch one");
  expect_error([&] { read_weights_file(p("missing.pt")); }, "cannot open checkpoint '" + p("missing.pt") + "'");

  auto odd = make_dict();
  odd.insert("visual.weird", torch::ones({1}));
  write_bytes(dir / "odd.bin", torch::pickle_save(odd));
  expect_error([&] { read_canonical_weights(p("odd.bin")); },
               "checkpoint '" + p("odd.bin") + "' (torch.save): 1 weight keys are not");
}
