// VideoTextModel: parameter names, freezing, the depth-0 baseline, masking consistency, text pooling and
// gradient checkpointing, on a tiny random model.
#include <gtest/gtest.h>

#include "btadapter/model/video_text_model.h"
#include "btadapter/runtime/autocast.h"
#include "support/test_support.h"
#include "tiny_model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <map>
#include <set>

using namespace btadapter;
using btadapter::testing::expect_error;
using btadapter::testing::tiny_config;

namespace {

std::set<std::string> layer_names(const std::string& prefix) {
  std::set<std::string> out;
  for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
    for (const char* kind : {"weight", "bias"}) out.insert(prefix + "self_attn." + proj + "." + kind);
  }
  for (const char* sub : {"layer_norm1", "layer_norm2", "mlp.fc1", "mlp.fc2"}) {
    for (const char* kind : {"weight", "bias"}) out.insert(prefix + sub + "." + kind);
  }
  return out;
}

// The canonical-name contract, spelled out for a config.
std::set<std::string> canonical_names(const ModelConfig& c) {
  std::set<std::string> out = {"backbone.class_embedding", "backbone.patch_embedding.weight",
                               "backbone.position_embedding.weight", "backbone.pre_layrnorm.weight",
                               "backbone.pre_layrnorm.bias", "backbone.post_layernorm.weight",
                               "backbone.post_layernorm.bias", "backbone.visual_projection.weight",
                               "text_backbone.text_model.embeddings.token_embedding.weight",
                               "text_backbone.text_model.embeddings.position_embedding.weight",
                               "text_backbone.text_model.final_layer_norm.weight",
                               "text_backbone.text_model.final_layer_norm.bias", "text_backbone.text_projection.weight"};
  auto add = [&](const std::set<std::string>& names) { out.insert(names.begin(), names.end()); };
  for (int64_t i = 0; i < c.vision.layers; ++i) add(layer_names("backbone.layers." + std::to_string(i) + "."));
  for (int64_t i = 0; i < c.text.layers; ++i) {
    add(layer_names("text_backbone.text_model.encoder.layers." + std::to_string(i) + "."));
  }
  for (int64_t k = 0; k < c.adapter.depth; ++k) {
    const std::string s = "backbone.btadapter_S_layers." + std::to_string(k) + ".";
    const std::string t = "backbone.btadapter_T_layers." + std::to_string(k) + ".";
    add(layer_names(s));
    for (const auto& name : layer_names(t)) {
      if (name.find("layer_norm2") == std::string::npos && name.find("mlp") == std::string::npos) out.insert(name);
    }
    add({t + "temporal_fc.weight", t + "temporal_fc.bias"});
  }
  if (c.adapter.depth > 0) {
    add({"backbone.btadapter_time_embed.weight", "backbone.btadapter_cls_token", "extra_proj.0.weight",
         "extra_proj.0.bias", "extra_proj.1.weight", "extra_proj.1.bias"});
    if (c.adapter.fusion == FusionMode::kLearned) add({"backbone.balance1", "backbone.balance2"});
  }
  return out;
}

std::set<std::string> names_of(const VideoTextModel& model) {
  std::set<std::string> out;
  for (const auto& item : model->named_parameters()) out.insert(item.key());
  return out;
}

bool contains_trainable_key(const std::string& name) {
  for (const char* key : {"btadapter", "balance", "extra_proj"}) {
    if (name.find(key) != std::string::npos) return true;
  }
  return false;
}

torch::Tensor random_video(int64_t b, int64_t t, int64_t size = 8) { return torch::randn({b, t, 3, size, size}); }

// A tiny model in eval mode whose branch contributes (temporal_fc starts at zero), and caption ids that
// end in the largest id (argmax pooling).
VideoTextModel model_with_a_live_branch(uint64_t seed) {
  torch::manual_seed(seed);
  VideoTextModel model(tiny_config());
  torch::NoGradGuard no_grad;
  for (auto& p : model->trainable_parameters()) p.add_(torch::randn_like(p) * 0.1);
  model->eval();
  return model;
}

torch::Tensor caption_ids() {
  auto ids = torch::randint(1, 49, {2, 7}, torch::kLong);
  ids.select(1, 6).fill_(49);
  return ids;
}

// Cosine similarity of matching rows, [B].
torch::Tensor row_cosines(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::cosine_similarity(a.to(torch::kFloat).cpu(), b.to(torch::kFloat).cpu(), 1);
}

}  // namespace

TEST(VideoTextModel, NamedParametersAreTheCanonicalNames) {
  for (auto [depth, fusion] : {std::pair{2, FusionMode::kLearned}, {1, FusionMode::kAdd}, {0, FusionMode::kLearned}}) {
    auto c = tiny_config(depth, fusion);
    VideoTextModel model(c);
    EXPECT_EQ(names_of(model), canonical_names(c)) << "depth " << depth;
  }
  auto c = tiny_config();
  VideoTextModel model(c);
  auto params = model->named_parameters();
  EXPECT_EQ(params["backbone.visual_projection.weight"].sizes(), (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(params["text_backbone.text_projection.weight"].sizes(), (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(params["backbone.position_embedding.weight"].sizes(), (std::vector<int64_t>{5, 8}));
  EXPECT_EQ(params["backbone.patch_embedding.weight"].sizes(), (std::vector<int64_t>{8, 3, 4, 4}));
  EXPECT_EQ(params["backbone.btadapter_time_embed.weight"].sizes(), (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(params["backbone.btadapter_cls_token"].sizes(), (std::vector<int64_t>{1, 1, 8}));
  EXPECT_EQ(params["extra_proj.0.weight"].sizes(), (std::vector<int64_t>{6, 8}));
}

TEST(VideoTextModel, OnlyBranchParametersTrainAndFrozenClipNeverChanges) {
  torch::manual_seed(0);
  VideoTextModel model(tiny_config());
  for (const auto& item : model->named_parameters()) {
    EXPECT_EQ(item.value().requires_grad(), contains_trainable_key(item.key())) << item.key();
  }
  std::map<std::string, torch::Tensor> before;
  for (const auto& item : model->named_parameters()) before[item.key()] = item.value().detach().clone();
  // Make every trainable parameter influence the loss (fresh temporal_fc and balances are zero).
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->trainable_parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  model->train();
  auto mask = TubeMaskGenerator(4, 0.5).generate(2, 3, at::detail::createCPUGenerator(1));
  auto enc = model->encode_video(random_video(2, 3), &mask);
  auto mbta = model->mbta_features(enc.branch_tokens, enc.clip_tokens, mask.target_index());
  EXPECT_FALSE(enc.clip_tokens.requires_grad());
  EXPECT_FALSE(mbta.target.requires_grad());
  auto loss = enc.video_embeds.square().sum() + model->mbca_features(enc.branch_tokens).sum() + mbta.branch.sum();
  // An optimizer over all parameters, as a careless trainer might build it.
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  optimizer.zero_grad();
  loss.backward();
  optimizer.step();
  for (const auto& item : model->named_parameters()) {
    const bool trainable = contains_trainable_key(item.key());
    EXPECT_EQ(item.value().grad().defined(), trainable) << item.key();
    EXPECT_EQ(item.value().equal(before[item.key()]), !trainable) << item.key();
  }
  EXPECT_EQ(model->trainable_parameters().size(), model->named_trainable_parameters().size());
}

TEST(VideoTextModel, DepthZeroIsTheMeanOfClipFrameEmbeddings) {
  torch::manual_seed(1);
  VideoTextModel model(tiny_config(0));
  model->eval();
  auto video = random_video(2, 3);
  auto enc = model->encode_video(video);
  auto frames = model->backbone->encode_images(video.reshape({6, 3, 8, 8}));
  BT_EXPECT_CLOSE(enc.video_embeds, frames.embeds.view({2, 3, 6}).mean(1), 1e-6, 1e-6);
  EXPECT_FALSE(enc.branch_tokens.defined());
  EXPECT_TRUE(model->trainable_parameters().empty());
}

TEST(VideoTextModel, MaskKeepingEverythingEqualsNoMask) {
  torch::manual_seed(2);
  VideoTextModel model(tiny_config());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->trainable_parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  model->eval();
  auto video = random_video(2, 3);
  auto full = model->encode_video(video);
  for (auto layout : {MaskLayout::kTube, MaskLayout::kOfficial}) {
    TubeMask keep_all(torch::zeros({2, 4}, torch::kBool), 3, layout);
    auto masked = model->encode_video(video, &keep_all);
    BT_EXPECT_CLOSE(masked.branch_tokens, full.branch_tokens, 1e-6, 1e-6);
    BT_EXPECT_CLOSE(masked.video_embeds, full.video_embeds, 1e-6, 1e-6);
  }
}

TEST(VideoTextModel, TubeMaskedBranchSeesTheKeptTubesOnly) {
  torch::manual_seed(3);
  VideoTextModel model(tiny_config(1));
  model->eval();
  auto video = random_video(1, 2);
  TubeMask mask(torch::tensor({false, true, true, false}).view({1, 4}), 2, MaskLayout::kTube);
  VisionTrace trace;
  auto enc = model->encode_video(video, &mask, &trace);
  ASSERT_EQ(enc.branch_tokens.sizes(), (std::vector<int64_t>{1, 1 + 2 * 2, 8}));
  // Level-0 input: CLIP layer tokens + position (again) + time embedding, for positions 0 and 3.
  auto clip = trace.clip_hidden[2].view({1, 2, 5, 8});  // layer L-K = 2 feeds level 0
  auto pos = model->backbone->position_embedding->weight;
  auto time = model->backbone->btadapter_time_embed->weight;
  int64_t k = 0;
  for (int64_t p : {0, 3}) {
    for (int64_t t = 0; t < 2; ++t, ++k) {
      auto expected = clip[0][t][1 + p] + pos[1 + p] + time[t];
      BT_EXPECT_CLOSE(trace.branch_in[0][0][1 + k], expected, 1e-6, 1e-6);
    }
  }
  auto cls = (clip[0].select(1, 0).mean(0) + model->backbone->btadapter_cls_token.view({8}) + pos[0]) / 2;
  BT_EXPECT_CLOSE(trace.branch_in[0][0][0], cls, 1e-6, 1e-6);
  // MBTA target of branch token (p = 3, t = 1) is CLIP's last-layer token of frame 1, position 3.
  auto mbta = model->mbta_features(enc.branch_tokens, enc.clip_tokens, mask.target_index());
  auto last = enc.clip_tokens.view({1, 2, 5, 8});
  auto expected = model->backbone->visual_projection->forward(model->backbone->post_layernorm->forward(last[0][1][4]));
  BT_EXPECT_CLOSE(mbta.target[0][3], expected, 1e-6, 1e-6);
}

TEST(VideoTextModel, FusionModesCombineTheClassTokens) {
  torch::manual_seed(4);
  auto video = random_video(2, 3);
  for (auto fusion : {FusionMode::kLearned, FusionMode::kAdd}) {
    VideoTextModel model(tiny_config(2, fusion));
    model->eval();
    if (fusion == FusionMode::kLearned) {
      torch::NoGradGuard no_grad;
      model->backbone->balance1.normal_();
    }
    auto enc = model->encode_video(video);
    auto clip_cls = enc.clip_tokens.select(1, 0);
    auto branch_cls = enc.branch_tokens.select(1, 0).repeat_interleave(3, 0);
    torch::Tensor expected;
    if (fusion == FusionMode::kAdd) {
      expected = clip_cls + branch_cls;
    } else {
      auto w = torch::sigmoid(1e4 * model->backbone->balance1);
      expected = (1 - w) * branch_cls + w * clip_cls;
    }
    BT_EXPECT_CLOSE(enc.fused_cls, expected, 1e-6, 1e-6);
    auto frames = model->backbone->visual_projection->forward(model->backbone->post_layernorm->forward(expected));
    BT_EXPECT_CLOSE(enc.video_embeds, frames.view({2, 3, 6}).mean(1), 1e-6, 1e-6);
  }
}

TEST(VideoTextModel, OtherResolutionsUseTheInterpolatedPositionTable) {
  torch::manual_seed(5);
  VideoTextModel model(tiny_config());
  model->eval();
  auto enc = model->encode_video(random_video(1, 2, 12));  // 3x3 patches instead of 2x2
  EXPECT_EQ(enc.clip_tokens.sizes(), (std::vector<int64_t>{2, 10, 8}));
  EXPECT_EQ(enc.branch_tokens.sizes(), (std::vector<int64_t>{1, 1 + 9 * 2, 8}));
  EXPECT_EQ(enc.video_embeds.sizes(), (std::vector<int64_t>{1, 6}));
}

TEST(VideoTextModel, TooManyFramesIsAClearError) {
  VideoTextModel model(tiny_config());
  expect_error([&] { model->encode_video(random_video(1, 9)); }, "at most 8 frames");
}

TEST(VideoTextModel, TextPoolingFollowsTheConfig) {
  torch::manual_seed(6);
  auto c = tiny_config();
  VideoTextModel argmax_model(c);
  // Caption 0 ends with EOT 49; caption 1 was truncated (no EOT): argmax is the first of its two 30s.
  auto ids = torch::tensor({48, 5, 49, 0, 0, 3, 30, 7, 30, 2}, torch::kLong).view({2, 5});
  TextTrace trace;
  auto embeds = argmax_model->encode_text(ids, &trace);
  EXPECT_EQ(trace.pooled_index[0].item<int64_t>(), 2);
  EXPECT_EQ(trace.pooled_index[1].item<int64_t>(), 1);
  auto tower = argmax_model->text_backbone;
  auto expected = tower->text_projection->forward(torch::stack({trace.final[0][2], trace.final[1][1]}));
  BT_EXPECT_CLOSE(embeds, expected, 1e-6, 1e-6);
  EXPECT_FALSE(embeds.requires_grad());

  c.text.pooling = TextPooling::kFirstEos;
  c.text.eos_id = 30;
  VideoTextModel eos_model(c);
  eos_model->encode_text(ids, &trace);
  EXPECT_EQ(trace.pooled_index[0].item<int64_t>(), 4);  // no eos: the last position
  EXPECT_EQ(trace.pooled_index[1].item<int64_t>(), 1);
  expect_error([&] { eos_model->encode_text(torch::zeros({1, 8}, torch::kLong)); }, "at most 7 token positions");
}

TEST(VideoTextModel, CausalTextIgnoresLaterTokens) {
  torch::manual_seed(7);
  VideoTextModel model(tiny_config());
  auto a = torch::tensor({3, 49, 0, 0}, torch::kLong).view({1, 4});
  auto b = torch::tensor({3, 49, 17, 21}, torch::kLong).view({1, 4});
  BT_EXPECT_CLOSE(model->encode_text(a), model->encode_text(b), 0, 0);
}

TEST(VideoTextModel, InitBranchFromClipFollowsTheOfficialRecipe) {
  torch::manual_seed(8);
  VideoTextModel model(tiny_config());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->trainable_parameters()) p.normal_();
  }
  model->init_branch_from_clip();
  auto params = model->named_parameters();
  for (int64_t k = 0; k < 2; ++k) {
    for (const auto& name : layer_names("")) {
      EXPECT_TRUE(params["backbone.btadapter_S_layers." + std::to_string(k) + "." + name].equal(
          params["backbone.layers." + std::to_string(1 + k) + "." + name]))
          << name;
    }
    const std::string t = "backbone.btadapter_T_layers." + std::to_string(k) + ".";
    EXPECT_EQ(params[t + "temporal_fc.weight"].abs().sum().item<double>(), 0.0);
    EXPECT_EQ(params[t + "temporal_fc.bias"].abs().sum().item<double>(), 0.0);
    EXPECT_TRUE(params[t + "layer_norm1.weight"].eq(1).all().item<bool>());
    EXPECT_LT(params[t + "self_attn.q_proj.weight"].abs().max().item<double>(), 1.0 / std::sqrt(8.0) + 1e-6);
  }
  EXPECT_EQ(params["backbone.btadapter_cls_token"].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(params["backbone.balance1"].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(params["backbone.balance2"].abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(params["extra_proj.1.weight"].eq(1).all().item<bool>());
}

TEST(VideoTextModel, GradientCheckpointingGivesTheSameGradients) {
  auto c = tiny_config(2);
  c.adapter.drop_path = 0.5;  // the recomputation must replay the same drop-path draws
  std::vector<std::vector<torch::Tensor>> grads;
  for (bool checkpointing : {false, true}) {
    torch::manual_seed(9);
    VideoTextModel model(c);
    model->set_gradient_checkpointing(checkpointing);
    {
      torch::NoGradGuard no_grad;
      for (auto& p : model->trainable_parameters()) p.add_(torch::randn_like(p) * 0.1);
    }
    model->train();
    auto mask = TubeMaskGenerator(4, 0.5).generate(2, 3, at::detail::createCPUGenerator(1));
    auto enc = model->encode_video(random_video(2, 3), &mask);
    auto mbta = model->mbta_features(enc.branch_tokens, enc.clip_tokens, mask.target_index());
    (enc.video_embeds.square().sum() + mbta.branch.sin().sum()).backward();
    std::vector<torch::Tensor> g;
    for (auto& p : model->trainable_parameters()) g.push_back(p.grad().clone());
    grads.push_back(g);
  }
  ASSERT_EQ(grads[0].size(), grads[1].size());
  for (size_t i = 0; i < grads[0].size(); ++i) BT_EXPECT_CLOSE(grads[1][i], grads[0][i], 1e-6, 1e-5);
}

// The GPU path (cuBLAS, cuDNN, CUDA kernels) computes what the CPU does: float32 on both sides (TF32 off),
// so only the summation order differs; 1e-4 is far below what a wrong kernel or layout would give (O(1)).
TEST(VideoTextModel, CudaForwardMatchesCpu_CUDA) {
  BT_SKIP_WITHOUT_CUDA();
  auto model = model_with_a_live_branch(11);
  const auto video = random_video(2, 3);
  const auto ids = caption_ids();
  torch::NoGradGuard no_grad;
  const auto cpu = model->encode_video(video);
  const auto cpu_text = model->encode_text(ids);
  btadapter::testing::NoTf32Guard fp32;
  model->to(torch::kCUDA);
  const auto gpu = model->encode_video(video.cuda());
  const auto gpu_text = model->encode_text(ids.cuda());
  ASSERT_TRUE(gpu.video_embeds.is_cuda());
  BT_EXPECT_CLOSE(gpu.video_embeds.cpu(), cpu.video_embeds, 1e-4, 1e-4);
  BT_EXPECT_CLOSE(gpu.branch_tokens.cpu(), cpu.branch_tokens, 1e-4, 1e-4);
  BT_EXPECT_CLOSE(gpu_text.cpu(), cpu_text, 1e-4, 1e-4);
}

// bf16 autocast on the GPU (what training and evaluation use there): the matrix products run in bf16
// (8 mantissa bits, ~4e-3 relative per product), so the embeddings move off the float32 ones but keep
// their direction: every row's cosine with the CPU float32 embedding is above 0.99.
TEST(VideoTextModel, CudaBf16AutocastStaysCloseToCpuFloat32_CUDA) {
  BT_SKIP_WITHOUT_CUDA();
  auto model = model_with_a_live_branch(12);
  const auto video = random_video(2, 3);
  const auto ids = caption_ids();
  torch::NoGradGuard no_grad;
  const auto cpu = model->encode_video(video).video_embeds;
  const auto cpu_text = model->encode_text(ids);
  model->to(torch::kCUDA);
  torch::Tensor gpu, gpu_text;
  {
    AutocastGuard autocast(torch::kBFloat16);
    gpu = model->encode_video(video.cuda()).video_embeds;
    gpu_text = model->encode_text(ids.cuda());
  }
  EXPECT_GT(row_cosines(gpu, cpu).min().item<double>(), 0.99);
  EXPECT_GT(row_cosines(gpu_text, cpu_text).min().item<double>(), 0.99);
  // Autocast did take effect: bf16 rounding leaves a visible difference from float32.
  EXPECT_GT(btadapter::testing::max_abs_diff(gpu.cpu(), cpu), 1e-6);
}
