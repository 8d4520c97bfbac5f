// llm/llama.h beyond the fixture: names, grouped-query attention, the fast bf16 CPU kernels against
// ATen and float64, autograd into the embeddings, and the video splice.

#include "btadapter/llm/llama.h"
#include "btadapter/io/state_dict.h"
#include "btadapter/llm/video_splice.h"
#include "llm_fixture.h"

#include <gtest/gtest.h>

namespace btadapter::testing {
namespace {

using namespace btadapter::llm;

LlamaConfig small_config(int64_t heads, int64_t kv_heads, int64_t width = 40) {
  LlamaConfig c;
  c.vocab_size = 30;
  c.hidden_size = width;
  c.intermediate_size = 36;
  c.num_hidden_layers = 2;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
  c.max_position_embeddings = 64;
  return c;
}

TEST(Llama, RegisteredNamesAreTransformers) {
  torch::manual_seed(0);
  LlamaForCausalLM model(LlamaOptions(small_config(4, 4)));
  const auto params = model->named_parameters();
  EXPECT_EQ(params.size(), 2u * 9 + 3);
  for (const char* name : {"model.embed_tokens.weight", "model.layers.1.self_attn.o_proj.weight",
                           "model.layers.0.mlp.gate_proj.weight", "model.layers.0.post_attention_layernorm.weight",
                           "model.norm.weight", "lm_head.weight"}) {
    EXPECT_TRUE(params.contains(name)) << name;
  }
  for (const auto& p : params) EXPECT_FALSE(p.value().requires_grad()) << p.key();
}

TEST(Llama, GroupedQueryAttentionEqualsRepeatedHeads) {
  torch::manual_seed(1);
  LlamaForCausalLM gqa(LlamaOptions(small_config(4, 2)));
  LlamaForCausalLM full(LlamaOptions(small_config(4, 4)));
  torch::NoGradGuard no_grad;
  const int64_t hd = 10;
  auto target = full->named_parameters();
  for (const auto& item : gqa->named_parameters()) {
    auto w = item.value();
    if (item.key().find("k_proj") != std::string::npos || item.key().find("v_proj") != std::string::npos) {
      w = w.view({2, 1, hd, -1}).expand({2, 2, hd, w.size(1)}).reshape({4 * hd, w.size(1)});  // heads 0,0,1,1
    }
    target[item.key()].copy_(w);
  }
  const auto ids = torch::randint(0, 30, {2, 7}, torch::kLong);
  BT_EXPECT_CLOSE(gqa->forward(gqa->embed(ids)).logits, full->forward(full->embed(ids)).logits, 1e-5, 1e-5);
}

TEST(Llama, FastBf16ProjectionMatchesFloat64) {
  torch::manual_seed(2);
  // K = 77 exercises the masked tail, N = 37 the rows past the 4-row blocks.
  const auto w = torch::randn({37, 77}).to(torch::kBFloat16);
  LlamaProjection fast(77, 37, torch::TensorOptions().dtype(torch::kBFloat16), true);
  torch::NoGradGuard no_grad;
  fast->weight.copy_(w);
  for (const int64_t rows : {1, 3, 20}) {  // the GEMV kernel, oneDNN's GEMM, ATen's GEMM
    const auto x = torch::randn({rows, 77}).to(torch::kBFloat16);
    const auto reference = torch::mm(x.to(torch::kDouble), w.to(torch::kDouble).t());
    const auto y = fast(x);
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
    // Only the final rounding to bf16 (relative 2^-8) separates them.
    BT_EXPECT_CLOSE(y, reference, 1e-3, 1.0 / 128);
  }
}

TEST(Llama, FastBf16PathMatchesAtenBf16) {
  torch::manual_seed(3);
  LlamaForCausalLM reference(LlamaOptions(small_config(4, 2)));
  auto weights = io::state_dict(*reference);
  torch::NoGradGuard no_grad;
  const auto ids = torch::randint(0, 30, {1, 9}, torch::kLong);
  const auto f32_logits = reference->forward(reference->embed(ids)).logits;
  for (const bool fast : {true, false}) {
    LlamaForCausalLM model(LlamaOptions(small_config(4, 2)).dtype(torch::kBFloat16).fast_cpu_bf16(fast));
    io::load_state_dict(*model, weights);
    // Prefill 9 tokens, then 3 cached steps: each path against float32.
    KVCache cache(model->config(), 1, 12, model->tensor_options());
    auto logits = model->forward(model->embed(ids.narrow(1, 0, 9)), &cache).logits;
    EXPECT_LE(max_abs_diff(logits.to(torch::kFloat), f32_logits), 0.05) << "fast " << fast;
    const auto more = torch::randint(0, 30, {1, 3}, torch::kLong);
    const auto all = torch::cat({ids, more}, 1);
    const auto f32_all = reference->forward(reference->embed(all)).logits;
    for (int64_t i = 0; i < 3; ++i) {
      const auto step = model->forward(model->embed(more.narrow(1, i, 1)), &cache).logits;
      EXPECT_LE(max_abs_diff(step[0][0].to(torch::kFloat), f32_all[0][9 + i]), 0.05) << "fast " << fast << " step " << i;
    }
  }
}

TEST(Llama, GradientsReachTheEmbeddings) {
  torch::manual_seed(4);
  LlamaForCausalLM model(LlamaOptions(small_config(4, 4)));
  const auto embeds = model->embed(torch::randint(0, 30, {1, 6}, torch::kLong)).detach().requires_grad_(true);
  const auto direction = torch::randn({1, 6, 30});
  const auto loss_of = [&](const torch::Tensor& e) { return (model->forward(e).logits * direction).sum(); };
  loss_of(embeds).backward();
  ASSERT_TRUE(embeds.grad().defined());
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
  // Central differences along a random direction agree with the gradient.
  torch::NoGradGuard no_grad;
  const auto v = torch::randn_like(embeds) * embeds.std();  // a step on the embeddings' own scale
  const double eps = 1e-2;
  const double numeric = (loss_of(embeds + eps * v) - loss_of(embeds - eps * v)).item<double>() / (2 * eps);
  const double analytic = (embeds.grad() * v).sum().item<double>();
  EXPECT_NEAR(numeric, analytic, 1e-2 * std::abs(analytic) + 1e-3);
}

TEST(VideoSplice, ReplacesThePatchRowsAndKeepsStartEnd) {
  // ids: text, <s>=5, P+1 = 2 patches (7), <e>=6, text
  const auto ids = torch::tensor({{1, 2, 5, 7, 7, 6, 3}}, torch::kLong);
  const auto embeds = torch::arange(7 * 2, torch::kFloat).view({1, 7, 2});
  const auto features = torch::full({1, 2, 2}, -1.0f);
  const auto out = splice_video_features(ids, embeds, features, VideoSpliceOptions(7, 5, 6));
  const auto expected = embeds.clone();
  expected.narrow(1, 3, 2).fill_(-1.0f);
  EXPECT_TRUE(torch::equal(out, expected));
}

TEST(VideoSplice, ErrorsNameTheProblem) {
  const VideoSpliceOptions o(7, 5, 6);
  const auto e = torch::zeros({1, 6, 2});
  const auto f = torch::zeros({1, 2, 2});
  expect_error([&] { splice_video_features(torch::tensor({{1, 5, 7, 7, 3, 6}}, torch::kLong), e, f, o); },
               "expected <vid_end> (id 6) at 4 = <vid_start> position 1 + 2 feature rows + 1, got id 3");
  expect_error([&] { splice_video_features(torch::tensor({{1, 5, 7, 7, 3, 3}}, torch::kLong), e, f, o); },
               "has 1 <vid_start> (id 5) but 0 <vid_end>");
  expect_error([&] { splice_video_features(torch::tensor({{6, 1, 1, 5, 7, 7}}, torch::kLong), e, f, o); },
               "past the sequence of 6 tokens");
  expect_error([&] { splice_video_features(torch::tensor({{1, 5, 7, 7, 6, 1}}, torch::kLong), e, torch::zeros({2, 2, 2}), o); },
               "2 videos given but the batch uses 1");
}

TEST(VideoSplice, DetachedTextRowsLeaveOnlyStartEndAndFeatureGradients) {
  const auto ids = torch::tensor({{1, 5, 7, 7, 6, 3}}, torch::kLong);
  for (const bool detach : {true, false}) {
    const auto table = torch::randn({8, 3}).requires_grad_(true);
    const auto features = torch::randn({1, 2, 3}).requires_grad_(true);
    const auto embeds = torch::embedding(table, ids);
    splice_video_features(ids, embeds, features, VideoSpliceOptions(7, 5, 6).detach_text_rows(detach)).sum().backward();
    EXPECT_TRUE(torch::equal(features.grad(), torch::ones_like(features)));
    const auto rows_with_grad = table.grad().abs().sum(1).nonzero().flatten();
    const auto expected = detach ? torch::tensor({5, 6}, torch::kLong) : torch::tensor({1, 3, 5, 6}, torch::kLong);
    EXPECT_TRUE(torch::equal(rows_with_grad, expected)) << "detach " << detach << ": " << rows_with_grad;
  }
}

TEST(VideoSplice, FixtureSpliceIsHiddenStateZero) {
  const auto& f = llm_fixture();
  auto model = fixture_llama();
  torch::NoGradGuard no_grad;
  const auto ids = f.inputs.at("inf.input_ids");
  const auto out = splice_video_features(ids, model->embed(ids), expected_tensor("inf.mm_projector_out").unsqueeze(0),
                                         VideoSpliceOptions(f.vid_patch, f.vid_start, f.vid_end));
  EXPECT_LE(budget_ratio(out, expected_tensor("llm.hidden_states.0"), "llm"), 1.0);
}

}  // namespace
}  // namespace btadapter::testing
