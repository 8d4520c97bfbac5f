// The LLaMA against tiny_conv_a (README sections 3, 5, 6): the splice, every hidden state, the logits,
// the prefill cache, greedy generation; cached against uncached decoding; bf16 against float32.

#include "btadapter/llm/generation.h"
#include "btadapter/llm/video_splice.h"
#include "llm_fixture.h"

#include <gtest/gtest.h>

namespace btadapter::testing {
namespace {

using namespace btadapter::llm;

torch::Tensor fixture_ids() { return llm_fixture().inputs.at("inf.input_ids"); }

torch::Tensor spliced_embeds(LlamaForCausalLM& model) {
  const auto& f = llm_fixture();
  const auto features = expected_tensor("inf.mm_projector_out").to(model->tensor_options()).unsqueeze(0);
  return splice_video_features(fixture_ids(), model->embed(fixture_ids()), features,
                               VideoSpliceOptions(f.vid_patch, f.vid_start, f.vid_end));
}

TEST(LlamaFixture, HiddenStatesAndLogitsMatch) {
  torch::NoGradGuard no_grad;
  auto model = fixture_llama();
  const auto out = model->forward(spliced_embeds(model), nullptr, LlamaForwardOptions().output_hidden_states(true));
  ASSERT_EQ(out.hidden_states.size(), static_cast<size_t>(model->config().num_hidden_layers + 1));
  for (size_t i = 0; i < out.hidden_states.size(); ++i) {
    const auto name = "llm.hidden_states." + std::to_string(i);
    const double ratio = budget_ratio(out.hidden_states[i], expected_tensor(name), "llm");
    EXPECT_LE(ratio, 1.0) << name;
    std::cout << name << " budget ratio " << ratio << "\n";
  }
  const double ratio = budget_ratio(out.logits, expected_tensor("llm.logits"), "llm");
  EXPECT_LE(ratio, 1.0);
  std::cout << "llm.logits budget ratio " << ratio << "\n";
}

TEST(LlamaFixture, PrefillCacheMatches) {
  torch::NoGradGuard no_grad;
  auto model = fixture_llama();
  const auto embeds = spliced_embeds(model);
  KVCache cache(model->config(), 1, embeds.size(1) + 4, model->tensor_options());
  model->forward(embeds, &cache);
  EXPECT_EQ(cache.length(), embeds.size(1));
  for (int64_t i = 0; i < model->config().num_hidden_layers; ++i) {
    for (const char* part : {"key", "value"}) {
      const auto name = "llm.prefill_cache." + std::to_string(i) + "." + part;
      const auto actual = std::string(part) == "key" ? cache.key(i) : cache.value(i);
      const double ratio = budget_ratio(actual, expected_tensor(name), "llm");
      EXPECT_LE(ratio, 1.0) << name;
      std::cout << name << " budget ratio " << ratio << "\n";
    }
  }
}

TEST(LlamaFixture, GreedyGenerationMatches) {
  auto model = fixture_llama();
  const auto expected_ids = expected_tensor("llm.gen.ids");
  const auto step_logits = expected_tensor("llm.gen.step_logits");
  const auto result = generate(model, spliced_embeds(model),
                               GenerationOptions().max_new_tokens(expected_ids.size(1)).keep_step_logits(true));
  ASSERT_EQ(static_cast<int64_t>(result.ids.size()), expected_ids.size(1));
  for (int64_t i = 0; i < expected_ids.size(1); ++i) EXPECT_EQ(result.ids[i], expected_ids[0][i].item<int64_t>()) << i;
  const double ratio = budget_ratio(result.step_logits, step_logits, "llm");
  EXPECT_LE(ratio, 1.0);
  std::cout << "llm.gen.step_logits budget ratio " << ratio << "\n";
  EXPECT_EQ(result.stop_reason, StopReason::kMaxNewTokens);
  EXPECT_GT(result.decode_tokens_per_s, 0.0);
}

TEST(LlamaFixture, CachedDecodingEqualsUncached) {
  torch::NoGradGuard no_grad;
  auto model = fixture_llama();
  const auto ids = expected_tensor("llm.gen.ids");
  auto sequence = spliced_embeds(model);
  KVCache cache(model->config(), 1, sequence.size(1) + ids.size(1), model->tensor_options());
  auto step = sequence;
  for (int64_t i = 0; i < ids.size(1); ++i) {
    const auto cached = model->forward(step, &cache).logits.select(1, -1);
    const auto full = model->forward(sequence).logits.select(1, -1);
    EXPECT_LE(max_abs_diff(cached, full), 1e-5) << "step " << i;
    step = model->embed(ids.narrow(1, i, 1));
    sequence = torch::cat({sequence, step}, 1);
  }
}

TEST(LlamaFixture, Bfloat16CloseToFloat32) {
  torch::NoGradGuard no_grad;
  auto f32 = fixture_llama();
  for (const bool fast : {true, false}) {
    auto bf16 = load_llama(llm_fixture().llama_file,
                           LlamaLoadOptions().dtype(torch::kBFloat16).fast_cpu_bf16(fast));
    const auto reference = f32->forward(spliced_embeds(f32)).logits;
    const auto logits = bf16->forward(spliced_embeds(bf16)).logits;
    ASSERT_EQ(logits.scalar_type(), torch::kBFloat16);
    // bf16 keeps 8 bits of mantissa: logits of magnitude ~3 move by a few hundredths over 2 layers.
    const double scale = reference.abs().max().item<double>();
    EXPECT_LE(max_abs_diff(logits.to(torch::kFloat), reference), 0.03 * scale) << "fast " << fast;
    // The greedy choice agrees where the fixture's top-1 margin is large.
    const auto result = generate(bf16, spliced_embeds(bf16), GenerationOptions().max_new_tokens(2));
    EXPECT_EQ(result.ids[0], expected_tensor("llm.gen.ids")[0][0].item<int64_t>());
  }
}

TEST(LlamaFixture, Float16RefusedOnCpu) {
  expect_error([] { fixture_llama(torch::kHalf); }, "float16 needs a CUDA device");
}

TEST(LlamaFixture, CudaMatchesCpu_CUDA) {
  BT_SKIP_WITHOUT_CUDA();
  torch::NoGradGuard no_grad;
  auto model = load_llama(llm_fixture().llama_file, LlamaLoadOptions().device(torch::kCUDA));
  const auto out = model->forward(spliced_embeds(model)).logits;
  EXPECT_LE(budget_ratio(out, expected_tensor("llm.logits"), "llm"), 1.0);
  auto half = load_llama(llm_fixture().llama_file, LlamaLoadOptions().device(torch::kCUDA).dtype(torch::kHalf));
  const auto result = generate(half, spliced_embeds(half), GenerationOptions().max_new_tokens(1));
  EXPECT_EQ(result.ids[0], expected_tensor("llm.gen.ids")[0][0].item<int64_t>());
}

}  // namespace
}  // namespace btadapter::testing
