// llm/generation.h and llm/kv_cache.h: seeded sampling, the HF warpers, stopping, and the context limits.

#include "btadapter/llm/generation.h"
#include "llm_fixture.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <set>

namespace btadapter::testing {
namespace {

using namespace btadapter::llm;

// A random tiny LLaMA (seeded) and a prompt of `n` random token embeddings.
LlamaForCausalLM tiny_model(int64_t context = 64) {
  torch::manual_seed(7);
  LlamaConfig c;
  c.vocab_size = 50;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 4;
  c.max_position_embeddings = context;
  return LlamaForCausalLM(LlamaOptions(c));
}

torch::Tensor prompt(LlamaForCausalLM& model, int64_t n) {
  return model->embed(torch::arange(n, torch::kLong).remainder(model->config().vocab_size).unsqueeze(0));
}

GenerationOptions sampling(uint64_t seed) {
  return GenerationOptions().max_new_tokens(12).temperature(1.5).top_k(0).seed(seed);
}

TEST(Generation, SeededSamplingIsReproducibleAndSeedsDiffer) {
  auto model = tiny_model();
  const auto p = prompt(model, 5);
  const auto a = generate(model, p, sampling(1)).ids;
  torch::manual_seed(12345);  // the global generator must not matter
  const auto b = generate(model, p, sampling(1)).ids;
  const auto c = generate(model, p, sampling(2)).ids;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto greedy = generate(model, p, GenerationOptions().max_new_tokens(12)).ids;
  EXPECT_NE(a, greedy);
}

TEST(Generation, TopPKeepsTheSmallestSetReachingP) {
  // probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps {0, 1}; 0.5 keeps {0} only.
  const auto logits = torch::tensor({0.5f, 0.3f, 0.15f, 0.05f}).log();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  for (const auto& [p, allowed] : {std::pair<double, std::set<int64_t>>{0.7, {0, 1}}, {0.5, {0}}, {0.9, {0, 1, 2}}}) {
    std::set<int64_t> seen;
    for (int i = 0; i < 300; ++i) {
      seen.insert(choose_token(logits, GenerationOptions().temperature(1.0).top_k(0).top_p(p), generator));
    }
    EXPECT_EQ(seen, allowed) << "top_p " << p;
  }
  std::set<int64_t> seen;
  for (int i = 0; i < 300; ++i) seen.insert(choose_token(logits, GenerationOptions().temperature(1.0).top_k(2), generator));
  EXPECT_EQ(seen, (std::set<int64_t>{0, 1}));
  EXPECT_EQ(choose_token(logits, GenerationOptions(), generator), 0);
}

TEST(Generation, StopsOnStopIdAndCallback) {
  auto model = tiny_model();
  const auto p = prompt(model, 5);
  const auto free_run = generate(model, p, GenerationOptions().max_new_tokens(6)).ids;
  const auto stopped = generate(model, p, GenerationOptions().max_new_tokens(6).stop_token_ids({free_run[2]}));
  EXPECT_EQ(stopped.stop_reason, StopReason::kStopToken);
  EXPECT_EQ(stopped.ids.back(), free_run[2]);
  EXPECT_LE(stopped.ids.size(), 3u);
  int calls = 0;
  const auto by_callback = generate(model, p, GenerationOptions().max_new_tokens(6), [&](int64_t) { return ++calls < 2; });
  EXPECT_EQ(by_callback.stop_reason, StopReason::kCallback);
  EXPECT_EQ(by_callback.ids.size(), 2u);
}

TEST(Generation, TooLongIsRefusedNamingBothNumbers) {
  auto model = tiny_model(/*context=*/16);
  expect_error([&] { generate(model, prompt(model, 10), GenerationOptions().max_new_tokens(8)); },
               "a prompt of 10 tokens + max_new_tokens 8 needs 17 positions, more than the model's context of 16");
  expect_error([&] { model->forward(prompt(model, 17)); },
               "0 cached + 17 new tokens = 17 positions exceed the model's context of 16");
  KVCache cache(model->config(), 1, 12, model->tensor_options());
  torch::NoGradGuard no_grad;
  model->forward(prompt(model, 10), &cache);
  expect_error([&] { model->forward(prompt(model, 3), &cache); },
               "10 cached + 3 new tokens = 13 positions exceed the cache capacity of 12");
  EXPECT_EQ(cache.length(), 10);
  expect_error([&] { KVCache(model->config(), 1, 17, model->tensor_options()); },
               "a capacity of 17 positions exceeds the model's context of 16");
  cache.reset();
  EXPECT_EQ(cache.length(), 0);
  expect_error([&] { generate(model, prompt(model, 2), GenerationOptions().temperature(-1)); },
               "expected temperature >= 0");
}

TEST(Generation, SampledStepsMatchAnUncachedLoop) {
  // The cached generate draws the same tokens as recomputing the whole sequence each step with the
  // same generator.
  auto model = tiny_model();
  const auto p = prompt(model, 4);
  const auto options = sampling(9).max_new_tokens(6).top_p(0.9);
  const auto ids = generate(model, p, options).ids;
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(9);
  auto sequence = p;
  for (const int64_t expected : ids) {
    const auto logits = model->forward(sequence).logits[0][-1];
    const int64_t id = choose_token(logits, options, generator);
    EXPECT_EQ(id, expected);
    sequence = torch::cat({sequence, model->embed(torch::full({1, 1}, id, torch::kLong))}, 1);
  }
}

}  // namespace
}  // namespace btadapter::testing
