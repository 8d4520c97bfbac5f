// The facade (btadapter.h): loading every supported kind of file, encoding from paths and tensors against
// the official code's outputs and against direct computation, concurrency, search, and bad input.
#include "btadapter/btadapter.h"

#include "api_test_helpers.h"
#include "btadapter/data/transforms.h"
#include "btadapter/data/video_clip.h"
#include "btadapter/io/safetensors.h"
#include "btadapter/text/sentencepiece_tokenizer.h"
#include "btadapter/text/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

namespace btadapter {
namespace {

using namespace btadapter::testing;
using btadapter::testing::expect_error;

io::TensorMap parity(const std::string& file) {
  return io::read_safetensors(fixture_path("parity/tiny_a/" + file).string());
}

torch::Tensor normalized(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x.to(torch::kFloat), torch::nn::functional::NormalizeFuncOptions().dim(1));
}

std::vector<std::string> fixture_texts() {
  std::vector<std::string> texts{
      "a photo of a cat sitting on a laptop.", "Don't panic: 3 dogs & 2 cats ran 100m in 9.58s!!!", "",
      "This deliberately long caption keeps going well past the context window of seventy seven tokens so that the "
      "tokenizer has to truncate it, replacing the last kept position with the end-of-text token; it mentions "
      "kitchens, rivers, bicycles, thunderstorms, violins, lighthouses, marathons, telescopes and several other "
      "unrelated nouns to make sure the sequence is long enough."};
  return texts;
}

TEST(ApiModel, OfficialWeightsReproduceTheOfficialEmbeddings) {
  const auto model = Model::load(tiny_official(), tiny_options());
  EXPECT_EQ(model->config().adapter.depth, 2);
  EXPECT_EQ(model->config().adapter.fusion, FusionMode::kLearned);
  EXPECT_NE(model->description().find("depth 2"), std::string::npos) << model->description();
  const auto inputs = parity("inputs.safetensors");
  const auto expected = parity("expected.safetensors");
  BT_EXPECT_CLOSE(model->encode_videos(inputs.at("video")), normalized(expected.at("bt.video_embeds")), 1e-5, 1e-4);
  // Strings through our tokenizer give the official ids, hence the official text embeddings.
  EXPECT_TRUE(torch::equal(model->tokenize(fixture_texts()), inputs.at("text_ids").to(torch::kLong)));
  BT_EXPECT_CLOSE(model->encode_texts(fixture_texts()), normalized(expected.at("clip.text_embeds")), 1e-5, 1e-4);
}

TEST(ApiModel, ClipOnlyWeightsGiveTheFrozenClipBaseline) {
  const auto model = Model::load(tiny_clip(), tiny_options());
  EXPECT_EQ(model->config().adapter.depth, 0);
  EXPECT_NE(model->description().find("no adapter"), std::string::npos) << model->description();
  // One frame per video: the video embedding is CLIP's image embedding.
  const auto pixels = parity("inputs.safetensors").at("pixels");
  BT_EXPECT_CLOSE(model->encode_videos(pixels.unsqueeze(1)),
                  normalized(parity("expected.safetensors").at("clip.image_embeds")), 1e-5, 1e-4);
  // The three images as the frames of one video: the mean of CLIP's (unnormalised) image embeddings.
  const auto image_embeds = parity("expected.safetensors").at("clip.image_embeds");
  BT_EXPECT_CLOSE(model->encode_videos(pixels.unsqueeze(0)), normalized(image_embeds.mean(0, true)), 1e-5, 1e-4);
}

TEST(ApiModel, ClipPlusAdapterFileEqualsTheOfficialCheckpoint) {
  const auto official = Model::load(tiny_official(), tiny_options());
  const auto merged = Model::load(tiny_hf_clip(), tiny_options().adapter(tiny_adapter()));
  EXPECT_NE(merged->description().find("adapter file"), std::string::npos);
  const auto video = parity("inputs.safetensors").at("video");
  BT_EXPECT_CLOSE(merged->encode_videos(video), official->encode_videos(video), 1e-6, 0);
}

TEST(ApiModel, AddFusionIgnoresTheBalanceWeights) {
  const auto model = Model::load(tiny_official(), tiny_options().fusion("add"));
  EXPECT_EQ(model->config().adapter.fusion, FusionMode::kAdd);
  EXPECT_EQ(model->weights().count("backbone.balance1"), 0u);
  const auto learned = Model::load(tiny_official(), tiny_options());
  const auto video = parity("inputs.safetensors").at("video");
  EXPECT_LT(cosine(model->encode_videos(video)[0], learned->encode_videos(video)[0]), 0.9999);
  expect_error([] { Model::load(tiny_clip(), tiny_options().fusion("sum")); }, "'sum'");
}

TEST(ApiModel, PathsUint8AndNormalisedTensorsAgree) {
  TempDir dir;
  const std::vector<std::string> paths{(dir / "a.mp4").string(), (dir / "b.mp4").string(), (dir / "c.mp4").string()};
  for (size_t i = 0; i < paths.size(); ++i) write_test_video(paths[i], static_cast<int64_t>(i));
  const auto model = Model::load(tiny_official(), tiny_options());
  const auto options = VideoOptions().num_frames(4).batch_size(2).num_workers(2);
  const auto from_paths = model->encode_videos(paths, options);
  ASSERT_EQ(from_paths.sizes(), (std::vector<int64_t>{3, 32}));

  std::vector<torch::Tensor> clips;
  for (const auto& path : paths) clips.push_back(data::load_clip(path, data::ClipOptions(4, 32)).frames);
  const auto uint8 = torch::stack(clips);  // [3, 4, 3, 32, 32] uint8
  BT_EXPECT_CLOSE(model->encode_videos(uint8), from_paths, 1e-6, 0);
  BT_EXPECT_CLOSE(model->encode_videos(data::normalize_clip(uint8)), from_paths, 1e-6, 0);
  BT_EXPECT_CLOSE(from_paths.norm(2, 1), torch::ones({3}), 1e-6, 0);
  EXPECT_EQ(model->encode_videos(std::vector<std::string>{}).sizes(), (std::vector<int64_t>{0, 32}));
}

TEST(ApiModel, ConcurrentCallsGiveTheSequentialResults) {
  TempDir dir;
  const std::string path = (dir / "v.mp4").string();
  write_test_video(path, 7);
  const auto model = Model::load(tiny_official(), tiny_options());
  const auto video = parity("inputs.safetensors").at("video");
  const auto texts = fixture_texts();
  const auto video_ref = model->encode_videos(video);
  const auto text_ref = model->encode_texts(texts);
  const auto path_ref = model->encode_videos({path}, VideoOptions().num_frames(4));

  constexpr int kThreads = 4;
  std::vector<torch::Tensor> videos(kThreads), text(kThreads), from_path(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int repeat = 0; repeat < 3; ++repeat) {
        videos[i] = model->encode_videos(video);
        text[i] = model->encode_texts(texts);
        from_path[i] = model->encode_videos({path}, VideoOptions().num_frames(4).num_workers(1));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    BT_EXPECT_CLOSE(videos[i], video_ref, 1e-6, 0);
    BT_EXPECT_CLOSE(text[i], text_ref, 1e-6, 0);
    BT_EXPECT_CLOSE(from_path[i], path_ref, 1e-6, 0);
  }
}

TEST(ApiModel, BFloat16OnTheCpuStaysCloseToFloat32) {
  const auto fp32 = Model::load(tiny_official(), tiny_options());
  const auto bf16 = Model::load(tiny_official(), tiny_options().dtype(torch::kBFloat16));
  EXPECT_EQ(bf16->dtype(), torch::kBFloat16);
  const auto video = parity("inputs.safetensors").at("video");
  const auto a = fp32->encode_videos(video), b = bf16->encode_videos(video);
  EXPECT_EQ(b.scalar_type(), torch::kFloat);
  for (int64_t i = 0; i < 2; ++i) EXPECT_GT(cosine(a[i], b[i]), 0.99);
  const auto ta = fp32->encode_texts({"a dog"}), tb = bf16->encode_texts({"a dog"});
  EXPECT_GT(cosine(ta[0], tb[0]), 0.99);
}

TEST(ApiSearch, SimilarityAndTopKByHand) {
  const auto keys = torch::tensor({{2.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}, {0.0, 3.0}});
  const auto queries = torch::tensor({{1.0, 0.0}, {0.0, 2.0}});
  const double h = 1.0 / std::sqrt(2.0);
  BT_EXPECT_CLOSE(similarity(queries, keys), torch::tensor({{1.0, 0.0, h, 0.0}, {0.0, 1.0, h, 1.0}}), 1e-6, 0);
  const SearchResult hits = search(queries, keys, 3);
  // Query 1 ties rows 1 and 3 exactly: the earlier row comes first.
  EXPECT_TRUE(torch::equal(hits.ids, torch::tensor({{0, 2, 1}, {1, 3, 2}}, torch::kLong)));
  BT_EXPECT_CLOSE(hits.scores, torch::tensor({{1.0, h, 0.0}, {1.0, 1.0, h}}), 1e-6, 0);
  EXPECT_EQ(search(queries, keys, 6).ids[0][5].item<int64_t>(), -1);
  expect_error([&] { similarity(queries, torch::zeros({2, 2})); }, "zero row at index 0");
  expect_error([&] { search(queries, torch::ones({2, 3}), 1); }, "same width");
}

TEST(ApiModel, BadInputsGiveClearErrors) {
  expect_error([] { Model::load("/nonexistent/model.safetensors"); },
               "'/nonexistent/model.safetensors' does "
               "not exist");
  expect_error([] { Model::load(tiny_clip(), LoadOptions().vision_heads(4).text_heads(2)); },
               "names no tokenizer vocabulary");
  expect_error([] { Model::load(tiny_clip(), tiny_options().vocab("/nonexistent/vocab.txt.gz")); },
               "'/nonexistent/vocab.txt.gz' does not exist");
  expect_error([] { Model::load(tiny_clip(), tiny_options().dtype(torch::kHalf)); }, "needs a CUDA device");
  expect_error([] { Model::load(tiny_clip(), tiny_options().adapter("/nonexistent/adapter.safetensors")); },
               "adapter file '/nonexistent/adapter.safetensors' does not exist");
  expect_error([] { Model::load(tiny_official(), tiny_options().adapter(tiny_adapter())); }, "both hold");
  TempDir dir;
  write_text((dir / "junk.safetensors").string(), "this is not a model");
  expect_error([&] { Model::load((dir / "junk.safetensors").string(), tiny_options()); }, "junk.safetensors");

  const auto model = Model::load(tiny_clip(), tiny_options());
  expect_error(
      [&] {
        model->encode_videos(torch::zeros({1, 2, 3, 16, 16}));
      },
      "expected video [B, T, 3, 32, 32], got [1, 2, 3, 16, 16]");
  expect_error([&] { model->encode_videos({(dir / "missing.mp4").string()}); }, "missing.mp4");
  expect_error([] { parse_dtype("int8"); }, "'int8'");
  expect_error([] { parse_device("gpu"); }, "'gpu'");
}

// LoadOptions::vocab takes a SentencePiece .model without naming the kind: the tokenizer factory reads a
// `.model` vocabulary as SentencePiece.
TEST(ApiModel, SentencePieceModelVocabularyLoads) {
  TempDir dir;
  {
    std::ofstream captions(dir / "captions.txt");
    const std::vector<std::string> words = {"a dog", "the red car", "two children", "an old man", "runs across",
                                            "jumps over", "the beach", "a wooden fence", "green grass", "the river"};
    for (size_t i = 0; i < 400; ++i) captions << words[i % 10] << ' ' << words[(i * 7 + 3) % 10] << ' ' << words[(i * 3 + 1) % 10] << '\n';
  }
  const std::string spm = (dir / "captions.model").string();
  train_sentencepiece(SentencePieceTrainOptions((dir / "captions.txt").string(), spm, 60));
  const auto model = Model::load(tiny_clip(), tiny_options().vocab(spm));
  EXPECT_EQ(model->vocab_path(), spm);
  TokenizerConfig config = model->config().tokenizer;
  config.kind = TokenizerKind::kSentencePiece;
  config.vocab = spm;
  const std::vector<std::string> texts = {"a dog runs across the beach"};
  EXPECT_TRUE(torch::equal(model->tokenize(texts), make_tokenizer(config)->tokenize(texts)));
  EXPECT_FALSE(torch::equal(model->tokenize(texts), Model::load(tiny_clip(), tiny_options())->tokenize(texts)));
}

}  // namespace
}  // namespace btadapter
