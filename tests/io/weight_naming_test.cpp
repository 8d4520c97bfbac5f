#include <gtest/gtest.h>

#include <cmath>

#include "btadapter/io/safetensors.h"
#include "btadapter/io/weight_naming.h"
#include "io_test_helpers.h"

using namespace btadapter::io;
using namespace btadapter::io::testing;

TEST(WeightNaming, OpenAIAndHuggingFaceFixturesGiveBitIdenticalCanonicalTensors) {
  std::vector<std::string> dropped_openai, dropped_hf;
  const TensorMap from_openai = to_canonical(tiny_a("weights_openai.safetensors"), &dropped_openai);
  const TensorMap from_hf = to_canonical(tiny_a("weights_hf.safetensors"), &dropped_hf);
  expect_identical(from_openai, from_hf);
  EXPECT_EQ(dropped_openai, std::vector<std::string>{"logit_scale"});
  EXPECT_EQ(dropped_hf, std::vector<std::string>{"logit_scale"});

  // Spot checks of the contract's shapes: 6 vision layers x 16 tensors, 3 text layers x 16, plus
  // 8 vision and 5 text singletons; projections in HF [E, W] orientation.
  EXPECT_EQ(from_hf.size(), 6u * 16 + 8 + 3u * 16 + 5);
  EXPECT_EQ(from_openai.at("backbone.visual_projection.weight").sizes(), (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(from_openai.at("text_backbone.text_projection.weight").sizes(), (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(from_openai.at("backbone.layers.5.self_attn.v_proj.bias").sizes(), (std::vector<int64_t>{64}));
  for (const auto& [name, t] : from_hf) {
    EXPECT_TRUE(name.rfind("backbone.", 0) == 0 || name.rfind("text_backbone.", 0) == 0) << name;
    EXPECT_FALSE(is_adapter_key(name)) << name;
  }
}

TEST(WeightNaming, OpenAIQkvSplitAndTransposesMatchHandSlicing) {
  const TensorMap openai = tiny_a("weights_openai.safetensors");
  const TensorMap canonical = to_canonical(openai);
  const torch::Tensor in_proj = openai.at("visual.transformer.resblocks.2.attn.in_proj_weight");  // [192, 64]
  EXPECT_TRUE(torch::equal(canonical.at("backbone.layers.2.self_attn.k_proj.weight"), in_proj.slice(0, 64, 128)));
  EXPECT_TRUE(torch::equal(canonical.at("text_backbone.text_model.encoder.layers.1.self_attn.v_proj.bias"),
                           openai.at("transformer.resblocks.1.attn.in_proj_bias").slice(0, 32, 48)));
  EXPECT_TRUE(torch::equal(canonical.at("backbone.visual_projection.weight"), openai.at("visual.proj").t()));
}

TEST(WeightNaming, AdapterFileGetsTheBackbonePrefix) {
  const TensorMap adapter = tiny_a("adapter.safetensors");
  const TensorMap canonical = to_canonical(adapter);
  ASSERT_EQ(canonical.size(), adapter.size());
  for (const auto& [name, t] : canonical) EXPECT_TRUE(is_adapter_key(name)) << name;
  EXPECT_TRUE(torch::equal(canonical.at("backbone.btadapter_T_layers.1.temporal_fc.weight"),
                           adapter.at("btadapter_T_layers.1.temporal_fc.weight")));
  EXPECT_TRUE(canonical.count("backbone.balance1") && canonical.count("extra_proj.1.bias"));
}

TEST(WeightNaming, ModulePrefixAndLegacyTimesFpnAreNormalised) {
  const TensorMap canonical = to_canonical(tiny_a("adapter.safetensors"));
  TensorMap legacy;
  for (const auto& [name, t] : canonical) {
    std::string key = "module." + name;
    if (auto pos = key.find("btadapter"); pos != std::string::npos) key.replace(pos, 9, "timesFPN");
    legacy[key] = t;
  }
  ASSERT_TRUE(legacy.count("module.backbone.timesFPN_S_layers.0.mlp.fc1.weight"));
  EXPECT_EQ(detect_naming(legacy), WeightNaming::kOfficial);
  expect_identical(to_canonical(legacy), canonical);
}

TEST(WeightNaming, DetectsEachNamingAndRejectsMixtures) {
  EXPECT_EQ(detect_naming(tiny_a("weights_openai.safetensors")), WeightNaming::kOpenAI);
  EXPECT_EQ(detect_naming(tiny_a("weights_hf.safetensors")), WeightNaming::kHuggingFace);
  EXPECT_EQ(detect_naming(tiny_a("adapter.safetensors")), WeightNaming::kAdapter);
  EXPECT_EQ(detect_naming(to_canonical(tiny_a("weights_hf.safetensors"))), WeightNaming::kOfficial);
  EXPECT_EQ(detect_naming({{"extra_proj.0.bias", torch::zeros({1})}}), WeightNaming::kOfficial);
  EXPECT_EQ(naming_of_key("vision_model.embeddings.position_ids"), std::nullopt);
  EXPECT_EQ(naming_of_key("visual.proj"), WeightNaming::kOpenAI);
  EXPECT_EQ(naming_of_key("visual_projection.weight"), WeightNaming::kHuggingFace);

  TensorMap mixed = {{"visual.proj", torch::zeros({2, 2})}, {"visual_projection.weight", torch::zeros({2, 2})}};
  expect_error([&] { detect_naming(mixed); },
               "weights mix several namings: huggingface ('visual_projection.weight') openai ('visual.proj')");
  expect_error([&] { detect_naming({{"foo", torch::zeros({1})}}); }, "cannot detect the weight naming");
}

TEST(WeightNaming, HuggingFaceAndAdapterFilesMergeInOneCall) {
  TensorMap merged = tiny_a("weights_hf.safetensors");
  for (const auto& kv : tiny_a("adapter.safetensors")) merged.insert(kv);
  const TensorMap canonical = to_canonical(merged);
  EXPECT_EQ(canonical.size(), to_canonical(tiny_a("weights_hf.safetensors")).size() + 64u);
}

TEST(WeightNaming, InverseMapsReproduceTheFixturesExactly) {
  const TensorMap hf = tiny_a("weights_hf.safetensors");
  const TensorMap openai = tiny_a("weights_openai.safetensors");
  TensorMap canonical = to_canonical(hf);
  const TensorMap adapter_canonical = to_canonical(tiny_a("adapter.safetensors"));
  canonical.insert(adapter_canonical.begin(), adapter_canonical.end());

  TensorMap adapter_hf, adapter_openai;
  TensorMap back_hf = canonical_to_hf(canonical, &adapter_hf);
  TensorMap back_openai = canonical_to_openai(canonical, &adapter_openai);
  expect_identical(adapter_hf, adapter_canonical);
  expect_identical(adapter_openai, adapter_canonical);

  // The fixtures' logit_scale is the CLIP init value; exports write the model's fixed ln(100).
  EXPECT_FLOAT_EQ(back_hf.at("logit_scale").item<float>(), std::log(100.0f));
  EXPECT_FLOAT_EQ(back_openai.at("logit_scale").item<float>(), std::log(100.0f));
  back_hf["logit_scale"] = hf.at("logit_scale");
  back_openai["logit_scale"] = openai.at("logit_scale");
  expect_identical(back_hf, hf);
  expect_identical(back_openai, openai);
  EXPECT_EQ(canonical_to_hf(canonical, nullptr, 2.5).at("logit_scale").item<float>(), 2.5f);
}

TEST(WeightNaming, ErrorsListTheOffendingKeys) {
  TensorMap unknown = tiny_a("weights_openai.safetensors");
  unknown["visual.transformer.resblocks.0.ls_1.gamma"] = torch::ones({64});
  unknown["foo"] = torch::ones({1});
  expect_error([&] { to_canonical(unknown); },
               "2 weight keys are not OpenAI, Hugging Face, official BT-Adapter or "
               "adapter names: 'foo', 'visual.transformer.resblocks.0.ls_1.gamma'");

  TensorMap duplicate = {{"extra_proj.0.bias", torch::ones({1})}, {"module.extra_proj.0.bias", torch::ones({1})}};
  expect_error([&] { to_canonical(duplicate); },
               "duplicate weights: 'extra_proj.0.bias' and 'module.extra_proj.0.bias' both map to "
               "'extra_proj.0.bias'");

  TensorMap bad_in_proj = {{"transformer.resblocks.0.attn.in_proj_bias", torch::ones({4})}};
  expect_error([&] { to_canonical(bad_in_proj); }, "must stack q, k, v on dim 0, got shape [4]");

  TensorMap canonical = to_canonical(tiny_a("weights_hf.safetensors"));
  canonical.erase("backbone.layers.3.self_attn.k_proj.weight");
  expect_error([&] { canonical_to_openai(canonical); },
               "cannot stack q, k, v into 'visual.transformer.resblocks.3.attn.in_proj_weight': "
               "'backbone.layers.3.self_attn.k_proj.weight' is missing");
  canonical["backbone.mystery"] = torch::ones({1});
  expect_error([&] { canonical_to_hf(canonical); }, "1 keys are not canonical CLIP keys: 'backbone.mystery'");
}
