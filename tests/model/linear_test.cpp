// btadapter::linear (oneDNN's sgemm for float32 CPU tensors, ATen's addmm otherwise) against float64
// re-computations: forward and all three gradients, with the scales the frozen MLP folds into it.
#include <gtest/gtest.h>

#include "btadapter/model/linear.h"
#include "btadapter/runtime/autocast.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::expect_error;

namespace {

torch::Tensor as_double_leaf(const torch::Tensor& t) { return t.detach().to(torch::kDouble).requires_grad_(true); }

}  // namespace

TEST(Linear, MatchesFloat64ForwardAndGradientsOnAStridedInput) {
  // Debian's LibTorch exports oneDNN: without it this test would only cover the ATen fallback.
  ASSERT_TRUE(has_onednn_gemm()) << "expected oneDNN's dnnl_sgemm in the process (Debian's LibTorch loads libdnnl)";
  torch::manual_seed(5);
  // [2, 3, 6, 7] through a transposed view: rows that are not contiguous in memory.
  auto x = torch::randn({2, 6, 3, 7}).transpose(1, 2).detach().requires_grad_(true);
  auto weight = torch::randn({5, 7}).requires_grad_(true), bias = torch::randn({5}).requires_grad_(true);
  auto out = linear(x, weight, bias, 1.702, 0.5);
  auto grad = torch::randn_like(out);
  out.backward(grad);
  auto xd = as_double_leaf(x), wd = as_double_leaf(weight), bd = as_double_leaf(bias);
  auto expected = 1.702 * torch::matmul(xd, wd.t()) + 0.5 * bd;
  expected.backward(grad.to(torch::kDouble));
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 3, 6, 5}));
  BT_EXPECT_CLOSE(out, expected, 1e-5, 1e-5);
  BT_EXPECT_CLOSE(x.grad(), xd.grad(), 1e-5, 1e-5);
  BT_EXPECT_CLOSE(weight.grad(), wd.grad(), 1e-5, 1e-5);
  BT_EXPECT_CLOSE(bias.grad(), bd.grad(), 1e-5, 1e-5);
}

TEST(Linear, FrozenWeightsWithoutBiasGiveOnlyTheInputGradient) {
  torch::manual_seed(6);
  auto x = torch::randn({4, 9}).requires_grad_(true);
  const auto weight = torch::randn({3, 9});
  auto out = linear(x, weight, {}, 0.25);
  out.sum().backward();
  auto xd = as_double_leaf(x);
  auto expected = 0.25 * torch::matmul(xd, weight.to(torch::kDouble).t());
  expected.sum().backward();
  BT_EXPECT_CLOSE(out, expected, 1e-5, 1e-5);
  BT_EXPECT_CLOSE(x.grad(), xd.grad(), 1e-5, 1e-5);
  EXPECT_FALSE(weight.grad().defined());
}

TEST(Linear, EmptyRowsGiveAnEmptyResult) {
  const auto out = linear(torch::randn({0, 4}), torch::randn({3, 4}), torch::randn({3}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 3}));
}

TEST(Linear, CpuAutocastAndOtherDtypesTakeAten) {
  const auto x = torch::randn({4, 8}), weight = torch::randn({3, 8}), bias = torch::randn({3});
  {
    // The oneDNN float32 path would silently skip autocast's bf16 lowering.
    AutocastGuard autocast(torch::kBFloat16, c10::DeviceType::CPU);
    EXPECT_EQ(linear(x, weight, bias).scalar_type(), torch::kBFloat16);
  }
  const auto xd = x.to(torch::kDouble), wd = weight.to(torch::kDouble), bd = bias.to(torch::kDouble);
  const auto out = linear(xd, wd, bd, 2.0, 3.0);
  ASSERT_EQ(out.scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::allclose(out, 2.0 * torch::matmul(xd, wd.t()) + 3.0 * bd));
}

TEST(Linear, RejectsMismatchedShapes) {
  expect_error(
      [&] {
        linear(torch::randn({4, 8}), torch::randn({3, 7}), torch::randn({3}));
      },
      "expected x [..., K], weight [N, K] and bias [N] or none");
}
