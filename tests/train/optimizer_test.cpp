#include <gtest/gtest.h>

#include <cmath>

#include "btadapter/train/optimizer.h"
#include "support/test_support.h"

using namespace btadapter::train;
using btadapter::testing::expect_error;

namespace {

double mult_of(const std::string& name) {
  static const auto rules = official_lr_mult_rules();
  const LrMultRule* rule = match_lr_mult_rule(name, rules);
  return rule ? rule->lr_mult : 1.0;
}

// A miniature recogniser whose parameter names follow the canonical names (io/weight_naming.h).
struct MiniBackbone : torch::nn::Module {
  MiniBackbone() {
    register_parameter("class_embedding", torch::zeros({4}), false);
    register_parameter("balance1", torch::zeros({4}));
    register_module("btadapter_time_embed", torch::nn::Embedding(8, 4));
    register_module("btadapter_T_layers", torch::nn::ModuleList(torch::nn::Linear(4, 4)));
    register_module("btadapter_S_layers", torch::nn::ModuleList(torch::nn::Linear(4, 4)));
  }
};

struct MiniRecogniser : torch::nn::Module {
  MiniRecogniser() {
    register_module("backbone", std::make_shared<MiniBackbone>());
    register_module("extra_proj", torch::nn::Sequential(torch::nn::Linear(4, 3), torch::nn::LayerNorm(
                                                                                     torch::nn::LayerNormOptions({3}))));
    register_parameter("logit_bias", torch::zeros({1}));  // a root-level parameter, matched as ".logit_bias"
  }
};

}  // namespace

TEST(LrMultRules, OfficialRulesOnCanonicalNames) {
  EXPECT_EQ(mult_of("backbone.btadapter_T_layers.0.temporal_fc.weight"), 100.0);
  EXPECT_EQ(mult_of("backbone.btadapter_T_layers.3.self_attn.q_proj.bias"), 100.0);
  EXPECT_EQ(mult_of("backbone.btadapter_S_layers.1.mlp.fc1.weight"), 10.0);
  EXPECT_EQ(mult_of("backbone.balance1"), 100.0);
  EXPECT_EQ(mult_of("backbone.balance2"), 100.0);
  EXPECT_EQ(mult_of("extra_proj.0.weight"), 10.0);
  EXPECT_EQ(mult_of("extra_proj.1.bias"), 10.0);
  EXPECT_EQ(mult_of("backbone.btadapter_time_embed.weight"), 10.0);
  EXPECT_EQ(mult_of("backbone.btadapter_cls_token"), 10.0);
  EXPECT_EQ(mult_of("backbone.layers.23.mlp.fc1.weight"), 1.0);
  EXPECT_EQ(mult_of("text_backbone.text_projection.weight"), 1.0);
}

TEST(LrMultRules, RootParametersMatchWithALeadingDot) {
  std::vector<LrMultRule> rules{{".bias_root", 3.0}};
  EXPECT_EQ(match_lr_mult_rule("bias_root", rules)->lr_mult, 3.0);
  EXPECT_EQ(match_lr_mult_rule("x.bias_root", rules)->lr_mult, 3.0);
  EXPECT_EQ(match_lr_mult_rule("xbias_root", rules), nullptr);
}

TEST(LrMultRules, EqualLengthKeysTieAlphabetically) {
  std::vector<LrMultRule> rules{{"zeta", 2.0}, {"beta", 5.0}};
  EXPECT_EQ(match_lr_mult_rule("a.betazeta", rules)->key, "beta");
}

TEST(ParamGroups, GroupsTrainableParametersWithOfficialMultipliers) {
  auto model = std::make_shared<MiniRecogniser>();
  auto groups = build_param_groups(trainable_parameters(*model), ParamGroupOptions(2e-6));
  // Order of first appearance: the root's own parameter first (Module::named_parameters visits the
  // root before its children), then balance1, time_embed, the T layer, (the S layer joins ".btadapter"),
  // extra_proj.
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[0].rule, "");
  EXPECT_DOUBLE_EQ(groups[0].lr, 2e-6);
  EXPECT_EQ(groups[0].names, (std::vector<std::string>{"logit_bias"}));
  EXPECT_EQ(groups[1].rule, "balance");
  EXPECT_DOUBLE_EQ(groups[1].lr, 2e-4);
  EXPECT_EQ(groups[2].rule, ".btadapter");
  EXPECT_DOUBLE_EQ(groups[2].lr, 2e-5);
  EXPECT_EQ(groups[2].names, (std::vector<std::string>{"backbone.btadapter_time_embed.weight",
                                                       "backbone.btadapter_S_layers.0.weight",
                                                       "backbone.btadapter_S_layers.0.bias"}));
  EXPECT_EQ(groups[3].rule, ".btadapter_T_layers");
  EXPECT_DOUBLE_EQ(groups[3].lr, 2e-4);
  EXPECT_EQ(groups[4].rule, "extra_proj");
  EXPECT_DOUBLE_EQ(groups[4].lr, 2e-5);
  EXPECT_EQ(groups[4].names.size(), 4u);
  for (const auto& g : groups) {
    EXPECT_DOUBLE_EQ(g.weight_decay, 0.05) << g.rule;  // decay on everything, norms and biases too
    for (const auto& n : g.names) EXPECT_NE(n, "backbone.class_embedding");  // frozen
  }
}

TEST(ParamGroups, NothingTrainableIsAnError) {
  torch::nn::Linear frozen(2, 2);
  for (auto& p : frozen->parameters()) p.requires_grad_(false);
  expect_error([&] { build_param_groups(trainable_parameters(*frozen), ParamGroupOptions(1e-3)); },
               "optimizer: no trainable parameters");
}

TEST(AdamW, GroupsCarryTheirOwnLrAndDecayAndFollowTheSchedule) {
  auto model = std::make_shared<MiniRecogniser>();
  auto groups = build_param_groups(trainable_parameters(*model), ParamGroupOptions(2e-6).weight_decay(0.05));
  auto optimizer = make_adamw(groups, {0.9, 0.98}, 1e-8);
  ASSERT_EQ(optimizer->param_groups().size(), groups.size());
  const auto& options = static_cast<const torch::optim::AdamWOptions&>(optimizer->param_groups()[3].options());
  EXPECT_DOUBLE_EQ(options.lr(), 2e-4);
  EXPECT_DOUBLE_EQ(options.weight_decay(), 0.05);
  EXPECT_DOUBLE_EQ(std::get<1>(options.betas()), 0.98);
  EXPECT_DOUBLE_EQ(options.eps(), 1e-8);
  set_learning_rates(*optimizer, groups, 0.5);
  auto lrs = learning_rates(*optimizer);
  EXPECT_DOUBLE_EQ(lrs[0], 1e-6);
  EXPECT_DOUBLE_EQ(lrs[1], 1e-4);
}

TEST(AdamW, OneStepMatchesTheClosedForm) {
  // First AdamW step with bias correction: p -= lr * wd * p, then p -= lr * g / (|g| + eps) (per element).
  auto p = torch::tensor({1.0, -2.0}, torch::kDouble).requires_grad_(true);
  NamedTensors named;
  named.insert("w", p);
  auto groups = build_param_groups(named, ParamGroupOptions(0.1).weight_decay(0.5).rules({}));
  auto optimizer = make_adamw(groups, {0.9, 0.98}, 1e-8);
  p.mutable_grad() = torch::tensor({0.5, 0.25}, torch::kDouble);
  optimizer->step();
  auto expected = torch::tensor({1.0 * (1 - 0.05) - 0.1 * 0.5 / (0.5 + 1e-8),
                                 -2.0 * (1 - 0.05) - 0.1 * 0.25 / (0.25 + 1e-8)}, torch::kDouble);
  BT_EXPECT_CLOSE(p.detach(), expected, 1e-12, 0);
}

TEST(ClipGradNorm, ScalesToTheMaxNormAndReportsTheNormBefore) {
  auto a = torch::zeros({2}, torch::requires_grad());
  auto b = torch::zeros({1}, torch::requires_grad());
  auto c = torch::zeros({1}, torch::requires_grad());  // no gradient: counts as zero
  a.mutable_grad() = torch::tensor({3.0f, 0.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  EXPECT_NEAR(clip_grad_norm({a, b, c}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 / (5.0 + 1e-6), 1e-6);
  EXPECT_NEAR(b.grad()[0].item<double>(), 4.0 / (5.0 + 1e-6), 1e-6);
  EXPECT_NEAR(clip_grad_norm({a, b}, 10.0), 1.0, 1e-5);  // under the bound: untouched
  EXPECT_NEAR(clip_grad_norm({a, b}, 0.0), 1.0, 1e-5);   // 0 disables clipping, still measures
  b.mutable_grad()[0] = std::nanf("");
  EXPECT_TRUE(std::isnan(clip_grad_norm({a, b}, 1.0)));
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 / 5.0, 1e-5);  // left alone for the caller to skip
}
