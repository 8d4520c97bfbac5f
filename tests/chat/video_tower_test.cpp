// chat::VideoTower against the conversation fixture (every inf.*, long.*, train.* tensor of the vision
// side), the frame-count rules, and gradients through the training build.

#include "conversation_fixture.h"

#include "btadapter/chat/video_tower_weights.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace btadapter::testing {
namespace {

using chat::FrameRule;
using chat::VideoTower;

VideoTower fixture_tower(FrameRule rule = FrameRule::kOfficial) {
  const auto& f = conversation_fixture();
  return chat::load_video_tower(f.file("vision_tower_clip.safetensors"), f.file("btadapter.safetensors"),
                                chat::VideoTowerLoadOptions().frame_rule(rule));
}

chat::Projector fixture_projector() { return chat::load_projector(conversation_fixture().file("mm_projector.safetensors")); }

// Compares every traced tensor that the fixture has under `prefix` + name; returns how many.
int compare_trace(const io::TensorMap& trace, const std::string& prefix) {
  int compared = 0;
  double worst = 0;
  for (const auto& [name, tensor] : trace) {
    const std::string full = prefix + name;
    if (!conversation_fixture().expected.count(full)) continue;
    worst = std::max(worst, expect_fixture_match(full, tensor));
    ++compared;
  }
  std::printf("  %s*: %d tensors, worst ratio %.4f\n", prefix.c_str(), compared, worst);
  return compared;
}

int expected_count(const std::string& prefix, const std::string& skip) {
  int n = 0;
  for (const auto& item : conversation_fixture().expected) {
    if (item.first.rfind(prefix, 0) == 0 && item.first != skip) ++n;
  }
  return n;
}

TEST(VideoTower, OptionsFollowTheWeights) {
  const auto& f = conversation_fixture();
  const auto& clip = f.config.at("vision_tower").at("clip");
  const auto options = fixture_tower()->options();
  EXPECT_EQ(options.width(), clip.at("hidden_size").get<int64_t>());
  EXPECT_EQ(options.layers(), clip.at("num_hidden_layers").get<int64_t>());
  EXPECT_EQ(options.heads(), clip.at("num_attention_heads").get<int64_t>());
  EXPECT_EQ(options.mlp_dim(), clip.at("intermediate_size").get<int64_t>());
  EXPECT_EQ(options.patch_size(), clip.at("patch_size").get<int64_t>());
  EXPECT_EQ(options.image_size(), clip.at("image_size").get<int64_t>());
  EXPECT_EQ(options.time_embed_rows(), 64);
  // Layer L-1 and adapter layer 3 are dead compute (quirk 4) and not built.
  EXPECT_EQ(static_cast<int64_t>(fixture_tower()->layers->size()), options.layers() - 1);
  EXPECT_EQ(static_cast<int64_t>(fixture_tower()->btadapter_S_layers->size()), 3);
}

TEST(VideoTower, InferenceMatchesEveryFixtureTensor) {
  const auto& f = conversation_fixture();
  VideoTower tower = fixture_tower();
  const auto trace = tower->trace(f.in("inf.frames"));
  EXPECT_EQ(compare_trace(trace, "inf."), expected_count("inf.", "inf.mm_projector_out"));
  const auto tokens = tower->video_tokens(f.in("inf.frames"));
  EXPECT_TRUE(torch::equal(tokens, trace.at("video_tokens")));
  EXPECT_FALSE(tokens.requires_grad());
  torch::NoGradGuard no_grad;
  expect_fixture_match("inf.mm_projector_out", fixture_projector().mm_projector->forward(tokens));
}

TEST(VideoTower, LongClipAveragesFramePairs) {
  const auto& f = conversation_fixture();
  VideoTower tower = fixture_tower();
  const auto& frames = f.in("long.frames");
  const auto plan = tower->frame_plan(frames.size(0));
  EXPECT_TRUE(plan.pair_average);
  EXPECT_EQ(plan.branch_frames, frames.size(0) / 2);
  EXPECT_EQ(plan.group, frames.size(0) / 2);
  const auto trace = tower->trace(frames);
  EXPECT_EQ(compare_trace(trace, "long."), expected_count("long.", "long.mm_projector_out"));
  torch::NoGradGuard no_grad;
  expect_fixture_match("long.mm_projector_out", fixture_projector().mm_projector->forward(trace.at("video_tokens")));
}

TEST(VideoTower, TrainingBuildMatchesAndEqualsInference) {
  const auto& f = conversation_fixture();
  VideoTower tower = fixture_tower();
  io::TensorMap trace;
  torch::Tensor tokens;
  {
    torch::NoGradGuard no_grad;
    tokens = tower->train_video_tokens(f.in("train.features"), &trace);
  }
  int compared = 0;
  for (const auto& [name, t] : trace) {
    if (name.rfind("adapter_", 0) == 0 || name == "video_tokens") {
      expect_fixture_match("train." + name, t);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 10);
  torch::NoGradGuard no_grad;
  expect_fixture_match("train.mm_projector_out", fixture_projector().mm_projector->forward(tokens));
  // README section 7: train.video_tokens equals inf.hidden_states.{L-1}; features = inf.hidden_states.{L-4}.
  const int64_t layers = tower->options().layers();
  const auto inference = tower->trace(f.in("inf.frames"));
  EXPECT_LE(max_abs_diff(inference.at("hidden_states." + std::to_string(layers - 4)), f.in("train.features")[0]), 1e-5);
  EXPECT_LE(max_abs_diff(inference.at("hidden_states." + std::to_string(layers - 1)), tokens), 1e-5);
}

TEST(VideoTower, GradientsFlowIntoTheBranchOnly) {
  const auto& f = conversation_fixture();
  VideoTower tower = fixture_tower();
  tower->to(torch::kDouble);
  tower->train();
  const auto features = f.in("train.features").to(torch::kDouble);
  torch::manual_seed(3);
  const auto weights = torch::randn_like(tower->train_video_tokens(features).detach());
  auto objective = [&] { return (tower->train_video_tokens(features) * weights).sum(); };
  objective().backward();
  int nonzero = 0;
  for (const auto& item : tower->named_parameters()) {
    const bool branch = item.key().rfind("btadapter", 0) == 0;
    EXPECT_EQ(item.value().requires_grad(), branch) << item.key();
    if (!branch) {
      EXPECT_FALSE(item.value().grad().defined()) << item.key();
      continue;
    }
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    if (item.value().grad().abs().max().item<double>() > 0) ++nonzero;
  }
  EXPECT_GE(nonzero, static_cast<int>(tower->branch_parameters().size()) - 6);  // k_proj biases ~0
  // Central differences in float64 on a few branch entries.
  torch::NoGradGuard no_grad;
  for (const std::string name : {"btadapter_T_layers.0.temporal_fc.weight", "btadapter_S_layers.2.mlp.fc1.weight",
                                 "btadapter_T_layers.1.self_attn.q_proj.weight", "btadapter_cls_token",
                                 "btadapter_time_embed.weight"}) {
    auto param = tower->named_parameters()[name];
    auto flat = param.view(-1);
    const double analytic = param.grad().view(-1)[1].item<double>();
    const double h = 1e-6, old = flat[1].item<double>();
    flat[1] = old + h;
    const double up = objective().item<double>();
    flat[1] = old - h;
    const double down = objective().item<double>();
    flat[1] = old;
    EXPECT_NEAR(analytic, (up - down) / (2 * h), 1e-6 + 1e-5 * std::abs(analytic)) << name;
  }
}

TEST(VideoTower, AllFramesRuleAttendsOverEveryFrame) {
  const auto& f = conversation_fixture();
  VideoTower tower = fixture_tower(FrameRule::kAllFrames);
  const int64_t frames = f.in("inf.frames").size(0);
  EXPECT_EQ(tower->frame_plan(frames).group, frames);
  const auto change = max_abs_diff(tower->video_tokens(f.in("inf.frames")), f.exp("inf.video_tokens"));
  const double reported =
      f.config.at("verification").at("video_tokens_change_if_adapter_used_t_equal_T_instead_of_T_half").get<double>();
  EXPECT_NEAR(change, reported, 1e-4 + 1e-3 * reported);
  // Above 64 frames both rules average pairs and attend over all T/2 of them: the same tokens.
  EXPECT_TRUE(torch::allclose(tower->video_tokens(f.in("long.frames")), f.exp("long.video_tokens"), 1e-4, 1e-5));
}

TEST(VideoTower, RefusesTheFrameCountsTheOfficialCodeCrashesOn) {
  // P = 9 (24 px, 8 px patches) so that P*T is not always divisible by T//2.
  VideoTower tower(chat::VideoTowerOptions().width(32).layers(4).heads(2).mlp_dim(64).patch_size(8).image_size(24));
  expect_error([&] { tower->frame_plan(1); }, "needs at least 2 frames");
  expect_error([&] { tower->frame_plan(65); }, "expected an even frame count above 64");
  expect_error([&] { tower->frame_plan(130); }, "expected at most 128 frames");
  expect_error([&] { tower->frame_plan(5); }, "P*T (45) divisible by T//2 (2)");
  EXPECT_EQ(tower->frame_plan(3).group, 1);
  EXPECT_EQ(tower->frame_plan(64).group, 32);
  EXPECT_FALSE(tower->frame_plan(64).pair_average);
  EXPECT_EQ(tower->frame_plan(128).branch_frames, 64);
  // The frame check runs before any compute.
  expect_error([&] { tower->video_tokens(torch::zeros({1, 3, 24, 24})); }, "needs at least 2 frames");
  expect_error([&] { tower->video_tokens(torch::zeros({2, 3, 32, 32})); }, "expected frames [T, 3, 24, 24]");
  auto all_options = tower->options();
  VideoTower all(all_options.frame_rule(FrameRule::kAllFrames));
  EXPECT_EQ(all->frame_plan(1).group, 1);
  EXPECT_EQ(all->frame_plan(5).group, 5);
  expect_error([&] { all->frame_plan(67); }, "expected an even frame count above 64");
  EXPECT_EQ(all->video_tokens(torch::randn({1, 3, 24, 24})).sizes(), (std::vector<int64_t>{10, 32}));
}

TEST(VideoTower, GateMixesThePreviousBranchOutputAndTheClipTokens) {
  // adapter_in.k = (1 - w) adapter_out.{k-1} + w [mean_t cls; patches (l t)], w = sigmoid(1e2 balance2).
  const auto& f = conversation_fixture();
  VideoTower tower = fixture_tower();
  const auto trace = tower->trace(f.in("inf.frames"));
  const int64_t layers = tower->options().layers(), t = f.in("inf.frames").size(0);
  const auto clip = trace.at("clip_layer." + std::to_string(layers - 3)).to(torch::kDouble);  // [T, 1+P, W]
  const auto w = torch::sigmoid(1e2 * tower->balance2.to(torch::kDouble));
  auto x1 = torch::cat({clip.select(1, 0).mean(0).view({1, 1, -1}),
                        clip.narrow(1, 1, clip.size(1) - 1).transpose(0, 1).reshape({1, -1, clip.size(2)})}, 1);
  ASSERT_EQ(x1.size(1), 1 + (clip.size(1) - 1) * t);
  auto expected = (1 - w) * trace.at("adapter_out.0").to(torch::kDouble) + w * x1;
  EXPECT_LE(max_abs_diff(trace.at("adapter_in.1"), expected), 1e-5);
}

}  // namespace
}  // namespace btadapter::testing
