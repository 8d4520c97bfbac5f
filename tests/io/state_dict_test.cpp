#include <gtest/gtest.h>

#include <cmath>

#include "btadapter/io/state_dict.h"
#include "io_test_helpers.h"

using namespace btadapter::io;
using namespace btadapter::io::testing;

namespace {

/// Parameters at two depths, a parameter of its own and a float64 buffer.
struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({2})));
    head = register_module("head", torch::nn::Sequential(torch::nn::Linear(2, 2)));
    scale = register_parameter("scale", torch::ones({1}));
    running = register_buffer("running", torch::zeros({2}, torch::kDouble));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Sequential head{nullptr};
  torch::Tensor scale, running;
};
TORCH_MODULE(Tiny);

const std::vector<std::string> kKeys = {"fc.bias",   "fc.weight",      "head.0.bias", "head.0.weight",
                                        "norm.bias", "norm.weight",    "running",     "scale"};

/// Distinct float64 values for every key of a Tiny.
TensorMap weights_for(const Tiny& model) {
  TensorMap out;
  double next = 1.0;
  for (const auto& [name, t] : state_dict(*model)) {
    out[name] = torch::arange(next, next + t.numel(), torch::kDouble).reshape(t.sizes());
    next += t.numel();
  }
  return out;
}

}  // namespace

TEST(StateDict, NamesEveryParameterAndBuffer) {
  Tiny model;
  EXPECT_EQ(keys_of(state_dict(*model)), kKeys);
}

TEST(StateDict, LoadsConvertingDtypeAndKeepingFlags) {
  Tiny model;
  const TensorMap weights = weights_for(model);
  const LoadStateDictReport report = load_state_dict(*model, weights);
  EXPECT_EQ(report.loaded, kKeys);
  EXPECT_TRUE(report.missing.empty() && report.unexpected.empty());
  for (const auto& [name, t] : state_dict(*model)) {
    EXPECT_TRUE(torch::equal(t.to(torch::kDouble), weights.at(name))) << name;
  }
  EXPECT_EQ(model->fc->weight.scalar_type(), torch::kFloat);
  EXPECT_EQ(model->running.scalar_type(), torch::kDouble);
  EXPECT_TRUE(model->fc->weight.requires_grad());
  EXPECT_TRUE(model->fc->weight.is_leaf());
}

TEST(StateDict, OneErrorListsEveryProblemAndNothingIsCopied) {
  Tiny model;
  const TensorMap before = weights_for(model);
  load_state_dict(*model, before);
  TensorMap bad = weights_for(model);
  for (auto& kv : bad) kv.second = kv.second + 100;
  bad.erase("fc.bias");
  bad.erase("head.0.weight");
  bad["extra.weight"] = torch::zeros({1});
  bad["fc.weight"] = torch::zeros({3, 2});
  expect_error([&] { load_state_dict(*model, bad); },
               "the weights do not fit the module (5 of 8 keys match)\n"
               "  2 missing keys:\n    fc.bias\n    head.0.weight\n"
               "  1 unexpected keys:\n    extra.weight\n"
               "  1 shape mismatches:\n    fc.weight: module [2, 3], weights [3, 2]");
  for (const auto& [name, t] : state_dict(*model)) {
    EXPECT_TRUE(torch::equal(t.to(torch::kDouble), before.at(name))) << name << " changed by a failed load";
  }
}

TEST(StateDict, NonFloatingWeightsForFloatParametersAreRefusedNamingTheKey) {
  for (const auto dtype : {torch::kInt64, torch::kInt32, torch::kBool, torch::kComplexFloat}) {
    Tiny model;
    TensorMap weights = weights_for(model);
    weights["norm.weight"] = weights.at("norm.weight").to(dtype);
    const torch::Tensor before = model->norm->weight.clone();
    expect_error([&] { load_state_dict(*model, weights); },
                 std::string("norm.weight: module Float, weights ") + c10::toString(dtype));
    EXPECT_TRUE(torch::equal(model->norm->weight, before));  // nothing copied
  }
}

TEST(StateDict, NonFiniteWeightsAreRefusedUnlessAllowed) {
  for (const double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    Tiny model;
    TensorMap weights = weights_for(model);
    weights["fc.weight"][1][2] = bad;
    expect_error([&] { load_state_dict(*model, weights); }, {"1 weights with NaN/Inf", "\n    fc.weight"});
    const LoadStateDictReport report = load_state_dict(*model, weights, LoadStateDictOptions().allow_non_finite(true));
    EXPECT_EQ(report.loaded, kKeys);
    EXPECT_FALSE(torch::isfinite(model->fc->weight).all().item<bool>());
  }
}

TEST(StateDict, AllowedMissingPrefixesAndIgnoredUnexpectedKeys) {
  Tiny model;
  const torch::Tensor head_before = model->head[0]->as<torch::nn::Linear>()->weight.clone();
  TensorMap partial = weights_for(model);
  partial.erase("head.0.weight");
  partial.erase("head.0.bias");
  partial["logit_scale"] = torch::ones({});
  const LoadStateDictReport report = load_state_dict(
      *model, partial, LoadStateDictOptions().allow_missing_prefixes({"head."}).ignore_unexpected(true));
  EXPECT_EQ(report.missing, (std::vector<std::string>{"head.0.bias", "head.0.weight"}));
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"logit_scale"});
  EXPECT_EQ(report.loaded.size(), 6u);
  EXPECT_TRUE(torch::equal(model->head[0]->as<torch::nn::Linear>()->weight, head_before));

  // A prefix that does not cover the missing key still fails.
  expect_error([&] { load_state_dict(*model, partial, LoadStateDictOptions().allow_missing_prefixes({"fc."})); },
               "2 missing keys:\n    head.0.bias\n    head.0.weight\n  1 unexpected keys:\n    logit_scale");
}

TEST(StateDict, LoadsIntoCudaParameters_CUDA) {
  BT_SKIP_WITHOUT_CUDA();
  Tiny model;
  model->to(torch::kCUDA);
  const TensorMap weights = weights_for(model);
  load_state_dict(*model, weights);
  EXPECT_TRUE(model->fc->weight.is_cuda());
  EXPECT_TRUE(torch::equal(model->fc->weight.cpu().to(torch::kDouble), weights.at("fc.weight")));
}
