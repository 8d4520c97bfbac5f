// The retrieval validation: embeddings equal the model's own encodings of the eval clips, the ground
// truth follows the annotations (several captions per video), and the metrics are those of the
// similarity matrix.
#include <gtest/gtest.h>

#include <fstream>

#include "btadapter/data/synthetic.h"
#include "btadapter/data/video_clip.h"
#include "btadapter/runtime/autocast.h"
#include "btadapter/train/retrieval_validation.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::fixture_path;
using btadapter::testing::TempDir;

namespace {

ModelConfig validation_config() {
  ModelConfig c;
  c.embed_dim = 16;
  c.vision.width = 32;
  c.vision.layers = 2;
  c.vision.heads = 2;
  c.vision.patch_size = 8;
  c.vision.image_size = 32;
  c.vision.mlp_dim = 64;
  c.text.width = 32;
  c.text.layers = 1;
  c.text.heads = 2;
  c.text.mlp_dim = 64;
  c.adapter.depth = 1;
  c.adapter.max_frames = 8;
  c.tokenizer.vocab = btadapter::testing::clip_vocab();
  c.tokenizer.truncate = "official:16";
  return c;
}

}  // namespace

TEST(RetrievalValidation, EmbeddingsGroundTruthAndMetricsFollowTheAnnotations) {
  TempDir dir;
  const auto synthetic =
      data::make_synthetic_dataset(data::SyntheticOptions(dir.path().string()).train_videos(2).test_videos(4).frames(6).size(32));
  // Two captions for the first video: 5 texts, 4 videos.
  auto annotations = data::read_annotations(synthetic.test_json, "msrvtt-json",
                                            data::AnnotationOptions().root(synthetic.test_root));
  ASSERT_EQ(annotations.samples.size(), 4u);
  auto extra = annotations.samples[0];
  extra.caption = "another caption of the first video";
  annotations.samples.push_back(extra);

  torch::manual_seed(2);
  const auto config = validation_config();
  VideoTextModel model(config);
  model->init_branch_from_clip();
  model->train();
  const auto tokenizer = make_tokenizer(config.tokenizer);
  const auto options = train::RetrievalEvalOptions().num_frames(4).batch_size(3).num_workers(2);
  const auto result = train::evaluate_retrieval(*model, annotations, *tokenizer, options);
  EXPECT_TRUE(model->is_training());  // mode restored

  EXPECT_TRUE(torch::equal(result.text_to_video, torch::tensor({0, 1, 2, 3, 0}, torch::kLong)));
  ASSERT_EQ(result.video_embeddings.sizes(), (std::vector<int64_t>{4, 16}));
  ASSERT_EQ(result.text_embeddings.sizes(), (std::vector<int64_t>{5, 16}));
  BT_EXPECT_CLOSE(result.video_embeddings.norm(2, 1), torch::ones({4}), 1e-6, 0.0);

  // Row 2 is the model's embedding of the third video's eval clip.
  model->eval();
  torch::NoGradGuard no_grad;
  const auto clip = data::load_clip(annotations.samples[2].video, data::ClipOptions(4, 32).train(false));
  auto expected = model->encode_video(data::normalize_clip(clip.frames).unsqueeze(0)).video_embeds[0];
  BT_EXPECT_CLOSE(result.video_embeddings[2], expected / expected.norm(), 1e-5, 1e-5);
  auto text = model->encode_text(tokenizer->tokenize({annotations.samples[4].caption}))[0];
  BT_EXPECT_CLOSE(result.text_embeddings[4], text / text.norm(), 1e-5, 1e-5);

  const auto direct = eval::compute_retrieval_metrics(result.text_embeddings.matmul(result.video_embeddings.t()),
                                                      result.text_to_video);
  EXPECT_TRUE(torch::equal(result.metrics.t2v_ranks, direct.t2v_ranks));
  EXPECT_EQ(result.metrics.num_texts, 5);
  EXPECT_EQ(result.metrics.num_videos, 4);
  EXPECT_DOUBLE_EQ(result.metrics.t2v.recall_at(5), 100.0);
}

TEST(RetrievalValidation, CpuAutocastEncodesInBf16) {
  TempDir dir;
  const auto synthetic =
      data::make_synthetic_dataset(data::SyntheticOptions(dir.path().string()).train_videos(1).test_videos(3).frames(4).size(32));
  const auto annotations = data::read_annotations(synthetic.test_json, "msrvtt-json",
                                                  data::AnnotationOptions().root(synthetic.test_root));
  torch::manual_seed(4);
  const auto config = validation_config();
  VideoTextModel model(config);
  model->init_branch_from_clip();
  const auto tokenizer = make_tokenizer(config.tokenizer);
  const auto options = train::RetrievalEvalOptions().num_frames(4).batch_size(3).num_workers(1).autocast(torch::kBFloat16);
  const auto result = train::evaluate_retrieval(*model, annotations, *tokenizer, options);

  // All captions go in one batch: the same forward under CPU bf16 autocast gives the same embeddings,
  // and they are measurably off the fp32 ones.
  std::vector<std::string> captions;
  for (const auto& s : annotations.samples) captions.push_back(s.caption);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto ids = tokenizer->tokenize(captions);
  const auto fp32 = torch::nn::functional::normalize(model->encode_text(ids), torch::nn::functional::NormalizeFuncOptions().dim(1));
  torch::Tensor bf16;
  {
    AutocastGuard autocast(torch::kBFloat16, c10::DeviceType::CPU);
    bf16 = torch::nn::functional::normalize(model->encode_text(ids).to(torch::kFloat),
                                            torch::nn::functional::NormalizeFuncOptions().dim(1));
  }
  BT_EXPECT_CLOSE(result.text_embeddings, bf16, 1e-6, 1e-6);
  EXPECT_GT((result.text_embeddings - fp32).abs().max().item<double>(), 1e-4);
}
