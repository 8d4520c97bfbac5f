// The building blocks against brute-force float64 re-computations.
#include <gtest/gtest.h>

#include "btadapter/model/adapter_layers.h"
#include "btadapter/model/batched_matmul.h"
#include "btadapter/model/position_embedding.h"
#include "support/test_support.h"

#include <cmath>

using namespace btadapter;
using btadapter::testing::expect_error;

namespace {

// Per-head, per-query loop over double tensors: the textbook definition of CLIP attention.
torch::Tensor reference_attention(ClipAttentionImpl& attn, const torch::Tensor& x, bool causal) {
  auto xd = x.to(torch::kDouble);
  auto lin = [&](torch::nn::Linear& l) {
    return torch::matmul(xd, l->weight.to(torch::kDouble).t()) + l->bias.to(torch::kDouble);
  };
  auto q = lin(attn.q_proj), k = lin(attn.k_proj), v = lin(attn.v_proj);
  const int64_t n = x.size(0), len = x.size(1), heads = attn.options().heads(), d = x.size(2) / heads;
  auto out = torch::zeros_like(xd);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      auto qh = q[b].narrow(1, h * d, d), kh = k[b].narrow(1, h * d, d), vh = v[b].narrow(1, h * d, d);
      for (int64_t i = 0; i < len; ++i) {
        const int64_t visible = causal ? i + 1 : len;
        auto scores = torch::mv(kh.narrow(0, 0, visible), qh[i]) / std::sqrt(static_cast<double>(d));
        auto weights = torch::softmax(scores, 0);
        out[b][i].narrow(0, h * d, d).copy_(torch::mv(vh.narrow(0, 0, visible).t(), weights));
      }
    }
  }
  return torch::matmul(out, attn.out_proj->weight.to(torch::kDouble).t()) + attn.out_proj->bias.to(torch::kDouble);
}

}  // namespace

TEST(ClipAttention, MatchesPerHeadReference) {
  torch::manual_seed(0);
  ClipAttention attn(ClipAttentionOptions(12, 3));
  auto x = torch::randn({2, 5, 12});
  for (bool causal : {false, true}) {
    BT_EXPECT_CLOSE(attn->forward(x, causal), reference_attention(*attn, x, causal), 1e-5, 1e-5);
  }
}

TEST(ClipAttention, RejectsWidthNotDivisibleByHeads) {
  expect_error([&] { ClipAttention attn(ClipAttentionOptions(10, 3)); }, "expected embed_dim divisible by heads");
}

TEST(ClipEncoderLayer, IsPreLayerNormWithQuickGelu) {
  torch::manual_seed(1);
  ClipEncoderLayer layer(ClipEncoderLayerOptions(8, 2, 32));
  auto x = torch::randn({3, 4, 8});
  auto h = x + layer->self_attn->forward(layer->layer_norm1->forward(x));
  auto z = layer->mlp->fc1->forward(layer->layer_norm2->forward(h));
  auto expected = h + layer->mlp->fc2->forward(z * torch::sigmoid(1.702 * z));
  BT_EXPECT_CLOSE(layer->forward(x), expected, 1e-6, 1e-6);
  std::vector<std::string> names;
  for (const auto& p : layer->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{
                       "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight",
                       "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias",
                       "self_attn.out_proj.weight", "self_attn.out_proj.bias", "layer_norm1.weight",
                       "layer_norm1.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
                       "layer_norm2.weight", "layer_norm2.bias"}));
}

TEST(ClipMlp, FrozenPathMatchesQuickGeluInFloat64) {
  torch::manual_seed(2);
  ClipMlp mlp(ClipMlpOptions(16, 64));
  auto x = torch::randn({3, 5, 16}) * 2;
  auto d = [](const torch::Tensor& t) { return t.to(torch::kDouble); };
  auto z = torch::matmul(d(x), d(mlp->fc1->weight).t()) + d(mlp->fc1->bias);
  auto expected = torch::matmul(z * torch::sigmoid(1.702 * z), d(mlp->fc2->weight).t()) + d(mlp->fc2->bias);
  BT_EXPECT_CLOSE(mlp->forward(x), expected, 1e-5, 1e-5);  // with autograd: the plain path
  torch::NoGradGuard no_grad;                                // without: GEMM-epilogue scaling + SiLU
  BT_EXPECT_CLOSE(mlp->forward(x), expected, 1e-5, 1e-5);
}

// Forward and both gradients of alpha * a @ b against float64, on the strided views attention passes:
// a 4-d batch sliced out of a fused qkv tensor, and a transposed operand.
TEST(BatchedMatmul, MatchesFloat64OnStridedAndTransposedViews) {
  torch::manual_seed(3);
  auto qkv = torch::randn({2, 7, 3, 4, 5}).permute({2, 0, 3, 1, 4});  // [3, N, H, L, D], not contiguous
  auto q = qkv[0].detach().requires_grad_(true), k = qkv[1].detach().requires_grad_(true);
  auto a = q.transpose(-2, -1).transpose(-2, -1);  // same strided view through autograd
  auto out = batched_matmul(a, k.transpose(-2, -1), 0.25);
  auto grad = torch::randn_like(out);
  out.backward(grad);
  auto qd = q.detach().to(torch::kDouble).requires_grad_(true), kd = k.detach().to(torch::kDouble).requires_grad_(true);
  auto expected = 0.25 * torch::matmul(qd, kd.transpose(-2, -1));
  expected.backward(grad.to(torch::kDouble));
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 4, 7, 7}));
  BT_EXPECT_CLOSE(out, expected, 1e-5, 1e-5);
  BT_EXPECT_CLOSE(q.grad(), qd.grad(), 1e-5, 1e-5);
  BT_EXPECT_CLOSE(k.grad(), kd.grad(), 1e-5, 1e-5);
}

TEST(BatchedMatmul, OtherDtypesTakeTorchMatmulAndBadShapesAreRejected) {
  auto a = torch::randn({3, 2, 4}, torch::kDouble), b = torch::randn({3, 4, 5}, torch::kDouble);
  EXPECT_TRUE(torch::allclose(batched_matmul(a, b, 2.0), 2.0 * torch::matmul(a, b)));
  expect_error([&] { batched_matmul(torch::randn({3, 2, 4}), torch::randn({2, 4, 5})); }, "equal leading sizes");
}

TEST(TemporalLayer, FreshLayerIsIdentityAndAttendsOnlyOverTime) {
  torch::manual_seed(2);
  const int64_t b = 2, p = 3, t = 4, w = 8;
  TemporalLayer layer(AdapterLayerOptions(w, 2, 32));
  auto x = torch::randn({b, 1 + p * t, w});
  BT_EXPECT_CLOSE(layer->forward(x, t), x, 0, 0);  // zero-initialised temporal_fc
  torch::NoGradGuard no_grad;
  layer->temporal_fc->weight.normal_();
  layer->temporal_fc->bias.normal_();
  auto y = layer->forward(x, t);
  BT_EXPECT_CLOSE(y.select(1, 0), x.select(1, 0), 0, 0);
  // Token j*T + t of the output depends only on the T tokens of patch j: brute force per patch.
  for (int64_t j = 0; j < p; ++j) {
    auto seq = x.narrow(1, 1 + j * t, t);
    auto expected = seq + layer->temporal_fc->forward(layer->self_attn->forward(layer->layer_norm1->forward(seq)));
    BT_EXPECT_CLOSE(y.narrow(1, 1 + j * t, t), expected, 1e-6, 1e-6);
  }
}

TEST(SpatialLayer, SharesTheClassTokenAcrossFramesAndAveragesIt) {
  torch::manual_seed(3);
  const int64_t b = 2, p = 3, t = 2, w = 8;
  SpatialLayer layer(AdapterLayerOptions(w, 2, 32));
  auto x = torch::randn({b, 1 + p * t, w});
  auto y = layer->forward(x, t);
  for (int64_t bi = 0; bi < b; ++bi) {
    std::vector<torch::Tensor> cls_out;
    auto patch_res = torch::zeros({p * t, w});
    for (int64_t ti = 0; ti < t; ++ti) {
      // Frame ti: [cls; patch j at branch index j*T + ti].
      auto idx = torch::arange(p) * t + ti + 1;
      auto frame = torch::cat({x[bi].narrow(0, 0, 1), x[bi].index_select(0, idx)}, 0).unsqueeze(0);
      auto att = layer->self_attn->forward(layer->layer_norm1->forward(frame))[0];
      cls_out.push_back(att[0]);
      patch_res.index_copy_(0, idx - 1, att.narrow(0, 1, p));
    }
    auto h = x[bi] + torch::cat({torch::stack(cls_out).mean(0, true), patch_res}, 0);
    auto expected = h + layer->mlp->forward(layer->layer_norm2->forward(h));
    BT_EXPECT_CLOSE(y[bi], expected, 1e-5, 1e-5);
  }
}

TEST(AdapterLayers, DropPathOnlyInTrainingAndScalesWholeSequences) {
  torch::manual_seed(4);
  TemporalLayer layer(AdapterLayerOptions(8, 2, 32).drop_path(0.5));
  auto x = torch::randn({2, 1 + 3 * 2, 8});
  layer->eval();
  EXPECT_FALSE(layer->drop_path_scale(x, 2).defined());
  layer->train();
  auto scale = layer->drop_path_scale(x, 2);
  ASSERT_EQ(scale.sizes(), (std::vector<int64_t>{6, 1, 1}));
  EXPECT_TRUE((scale.eq(0) | scale.eq(2)).all().item<bool>());
  auto big = sample_drop_path(20000, 0.25, torch::kDouble);
  EXPECT_NEAR(big.mean().item<double>(), 1.0, 0.03);  // unbiased: E[floor(keep + U) / keep] = 1
}

TEST(AdapterLayers, RejectTokenCountsNotDivisibleByFrames) {
  TemporalLayer layer(AdapterLayerOptions(8, 2, 32));
  expect_error([&] { layer->forward(torch::randn({1, 1 + 5, 8}), 2); }, "multiple of frames (2)");
}

TEST(PositionEmbedding, TrainedSizeIsIdentityAndResizeKeepsClassRow) {
  torch::manual_seed(5);
  auto table = torch::randn({1 + 16, 6});
  EXPECT_TRUE(interpolate_position_embedding(table, 4, 4).equal(table));
  auto big = interpolate_position_embedding(table, 6, 8);
  ASSERT_EQ(big.sizes(), (std::vector<int64_t>{1 + 48, 6}));
  EXPECT_TRUE(big[0].equal(table[0]));
  // A constant grid stays constant under bicubic resizing (the weights sum to one).
  auto flat = torch::cat({table.narrow(0, 0, 1), torch::ones({16, 6}) * 0.5}, 0);
  BT_EXPECT_CLOSE(interpolate_position_embedding(flat, 7, 3).narrow(0, 1, 21), torch::full({21, 6}, 0.5), 1e-6, 0);
}

TEST(PositionEmbedding, RejectsNonSquareTables) {
  expect_error([&] { interpolate_position_embedding(torch::zeros({1 + 15, 4}), 4, 4); }, "square number");
}
