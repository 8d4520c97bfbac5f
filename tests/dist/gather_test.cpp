#include <gtest/gtest.h>

#include "btadapter/dist/gather.h"
#include "dist/run_ranks.h"

using namespace btadapter;
using btadapter::testing::expect_error;
using btadapter::testing::run_ranks;

namespace {

// Rows of rank r: values 100*r + [0, rows*cols), so every gathered row tells where it came from.
torch::Tensor rows_of(int rank, int64_t rows, int64_t cols) {
  return (torch::arange(rows * cols, torch::kDouble) + 100.0 * rank).reshape({rows, cols});
}

// A loss whose gradient w.r.t. the gathered tensor is known in closed form: d/dG sum(G * W) = W.
torch::Tensor weights_for(int64_t total_rows, int64_t cols) {
  return torch::linspace(-1.0, 2.0, total_rows * cols, torch::kDouble).reshape({total_rows, cols});
}

}  // namespace

TEST(GatherWithGrad, ModeNames) {
  EXPECT_EQ(btadapter::enum_from_name<dist::GatherMode>("sum"), dist::GatherMode::kSum);
  EXPECT_EQ(btadapter::enum_from_name<dist::GatherMode>("official"), dist::GatherMode::kOfficial);
  EXPECT_STREQ(btadapter::enum_name(dist::GatherMode::kOfficial), "official");
  expect_error([] { btadapter::enum_from_name<dist::GatherMode>("mean"); }, "'mean'");
}

TEST(GatherWithGrad, WorldOfOneIsTheIdentity) {
  auto group = dist::make_single_process_group();
  auto x = torch::randn({3, 2}, torch::requires_grad());
  auto y = dist::gather_with_grad(x, *group);
  y.sum().backward();
  EXPECT_TRUE(torch::equal(y, x));
  EXPECT_TRUE(torch::equal(x.grad(), torch::ones({3, 2})));
}

TEST(GatherWithGrad, SumModeGradientIsWorldSizeTimesTheGlobalGradient) {
  run_ranks(2, [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    auto local = rows_of(rank, 3, 2).requires_grad_(true);
    auto gathered = dist::gather_with_grad(local, *group, dist::GatherMode::kSum);
    ASSERT_EQ(gathered.sizes(), (std::vector<int64_t>{6, 2}));
    EXPECT_TRUE(torch::equal(gathered.detach(), torch::cat({rows_of(0, 3, 2), rows_of(1, 3, 2)})));
    auto w = weights_for(6, 2);
    (gathered * w).sum().backward();
    // Both ranks computed the same loss: the summed gradient of my rows is 2 * W[my rows].
    EXPECT_TRUE(torch::equal(local.grad(), 2.0 * w.narrow(0, 3 * rank, 3)));
  });
}

TEST(GatherWithGrad, OfficialModeKeepsOnlyTheLocalSliceOfTheLocalGradient) {
  run_ranks(2, [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    auto local = rows_of(rank, 3, 2).requires_grad_(true);
    auto gathered = dist::gather_with_grad(local, *group, dist::GatherMode::kOfficial);
    auto w = weights_for(6, 2) * (rank + 1);  // different losses per rank: only my own counts
    (gathered * w).sum().backward();
    EXPECT_TRUE(torch::equal(local.grad(), w.narrow(0, 3 * rank, 3)));
  });
}

TEST(GatherWithGrad, UnequalBatchesAreGatheredWithoutPadding) {
  run_ranks(3, [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    const int64_t rows[] = {2, 4, 1};
    auto local = rows_of(rank, rows[rank], 3).requires_grad_(true);
    auto gathered = dist::gather_with_grad(local, *group, dist::GatherMode::kSum);
    auto expected = torch::cat({rows_of(0, 2, 3), rows_of(1, 4, 3), rows_of(2, 1, 3)});
    ASSERT_EQ(gathered.sizes(), expected.sizes());
    EXPECT_TRUE(torch::equal(gathered.detach(), expected));
    auto w = weights_for(7, 3);
    (gathered * w).sum().backward();
    const int64_t offset[] = {0, 2, 6};
    EXPECT_TRUE(torch::equal(local.grad(), 3.0 * w.narrow(0, offset[rank], rows[rank])));
  });
}
