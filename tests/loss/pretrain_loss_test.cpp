// Losses: hand-computed values and float64 gradients against central finite differences.
#include <gtest/gtest.h>

#include "btadapter/loss/pretrain_loss.h"
#include "support/test_support.h"

#include <cmath>
#include <functional>

using namespace btadapter::loss;
using btadapter::testing::expect_error;

namespace {

// Checks d f / d x (autograd) against central differences, element by element, in float64.
void expect_gradient_matches_finite_differences(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                                                torch::Tensor x) {
  x = x.to(torch::kDouble).detach().requires_grad_(true);
  auto analytic = torch::autograd::grad({f(x)}, {x})[0];
  const double h = 1e-6;
  auto flat = x.detach().clone().view(-1);
  auto numeric = torch::zeros_like(flat);
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < flat.numel(); ++i) {
    const double v = flat[i].item<double>();
    flat[i] = v + h;
    const double up = f(flat.view(x.sizes())).item<double>();
    flat[i] = v - h;
    const double down = f(flat.view(x.sizes())).item<double>();
    flat[i] = v;
    numeric[i] = (up - down) / (2 * h);
  }
  BT_EXPECT_CLOSE(analytic, numeric.view(x.sizes()), 1e-7, 1e-6);
}

}  // namespace

TEST(InfoNce, MatchesAHandComputedTwoByTwoCase) {
  // a = rows e0, e1; b = rows e0, (e0+e1)/sqrt2: cosines [[1, 1/sqrt2], [0, 1/sqrt2]].
  auto a = torch::tensor({1.0, 0.0, 0.0, 2.0}, torch::kDouble).view({2, 2});
  auto b = torch::tensor({3.0, 0.0, 1.0, 1.0}, torch::kDouble).view({2, 2});
  const double s = 10.0, c = 1.0 / std::sqrt(2.0);
  auto nll = [](double pos, double other) { return -(pos - std::log(std::exp(pos) + std::exp(other))); };
  const double a_to_b = 0.5 * (nll(s * 1.0, s * c) + nll(s * c, s * 0.0));
  const double b_to_a = 0.5 * (nll(s * 1.0, s * 0.0) + nll(s * c, s * c));
  auto terms = info_nce(a, b, s);
  EXPECT_NEAR(terms.a_to_b.item<double>(), a_to_b, 1e-12);
  EXPECT_NEAR(terms.b_to_a.item<double>(), b_to_a, 1e-12);
  EXPECT_NEAR(terms.total.item<double>(), a_to_b + b_to_a, 1e-12);
}

TEST(InfoNce, GradientsMatchFiniteDifferences) {
  torch::manual_seed(0);
  auto b = torch::randn({4, 3}, torch::kDouble);
  expect_gradient_matches_finite_differences([&](const torch::Tensor& a) { return info_nce(a, b, 5.0).total; },
                                             torch::randn({4, 3}));
  auto a = torch::randn({4, 3}, torch::kDouble);
  expect_gradient_matches_finite_differences([&](const torch::Tensor& x) { return info_nce(a, x, 5.0).b_to_a; },
                                             torch::randn({4, 3}));
}

TEST(TokenAlignment, IsTwoMinusTwoCosineAveraged) {
  auto branch = torch::tensor({1.0, 0.0, 0.0, 1.0, 2.0, 2.0}, torch::kDouble).view({1, 3, 2});
  auto target = torch::tensor({1.0, 0.0, 1.0, 0.0, -1.0, -1.0}, torch::kDouble).view({1, 3, 2});
  // cosines 1, 0, -1 -> (0 + 2 + 4) / 3
  EXPECT_NEAR(token_alignment_loss(branch, target).item<double>(), 2.0, 1e-12);
  torch::manual_seed(1);
  auto t = torch::randn({2, 3, 4}, torch::kDouble);
  expect_gradient_matches_finite_differences([&](const torch::Tensor& x) { return token_alignment_loss(x, t); },
                                             torch::randn({2, 3, 4}));
}

TEST(PretrainLoss, WeightsTheTermsAndSkipsAbsentOnes) {
  torch::manual_seed(2);
  PretrainLossInputs in;
  in.video = torch::randn({3, 4});
  in.text = torch::randn({3, 4});
  auto only_vtc = pretrain_loss(in);
  EXPECT_FALSE(only_vtc.mbca.defined());
  EXPECT_FALSE(only_vtc.mbta.defined());
  EXPECT_NEAR(only_vtc.total.item<double>(), info_nce(in.video, in.text, 100.0).total.item<double>(), 1e-6);
  in.mbca_video = torch::randn({3, 4});
  in.mbta_branch = torch::randn({3, 5, 4});
  in.mbta_target = torch::randn({3, 5, 4});
  PretrainLossOptions options;
  options.vtc_weight = 0.5;
  options.mbca_weight = 0.25;
  options.mbta_weight = 2.0;
  options.logit_scale = 20.0;
  auto all = pretrain_loss(in, options);
  const double vtc = info_nce(in.video, in.text, 20.0).total.item<double>();
  const double mbca = info_nce(in.mbca_video, in.text, 20.0).total.item<double>();
  const double mbta = token_alignment_loss(in.mbta_branch, in.mbta_target).item<double>();
  EXPECT_NEAR(all.vtc.item<double>(), 0.5 * vtc, 1e-5);
  EXPECT_NEAR(all.mbca.item<double>(), 0.25 * mbca, 1e-5);
  EXPECT_NEAR(all.mbta.item<double>(), 2.0 * mbta, 1e-5);
  EXPECT_NEAR(all.total.item<double>(), 0.5 * vtc + 0.25 * mbca + 2.0 * mbta, 1e-5);
}

TEST(PretrainLoss, RejectsHalfAnMbtaPairAndMismatchedShapes) {
  PretrainLossInputs in;
  in.video = torch::randn({2, 4});
  in.text = torch::randn({2, 4});
  in.mbta_branch = torch::randn({2, 3, 4});
  expect_error([&] { pretrain_loss(in); }, "pretrain_loss: expected both MBTA sides or neither");
  expect_error([&] { info_nce(torch::randn({2, 4}), torch::randn({3, 4}), 1.0); }, "same shape");
}
