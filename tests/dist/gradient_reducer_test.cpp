#include <gtest/gtest.h>

#include "btadapter/dist/gradient_reducer.h"
#include "dist/run_ranks.h"

using namespace btadapter;
using btadapter::testing::expect_error;
using btadapter::testing::run_ranks;

namespace {

// A small two-layer net; `second` is skipped when `use_second` is false (an unused parameter).
struct Net {
  torch::nn::Linear first{nullptr}, second{nullptr};
  Net() {
    first = torch::nn::Linear(5, 4);
    second = torch::nn::Linear(4, 3);
    btadapter::testing::deterministic_init(*first, 0.0);
    btadapter::testing::deterministic_init(*second, 1.0);
  }
  std::vector<torch::Tensor> params() const {
    auto p = first->parameters();
    auto q = second->parameters();
    p.insert(p.end(), q.begin(), q.end());
    return p;
  }
  torch::Tensor loss(const torch::Tensor& x, bool use_second) {
    auto h = torch::tanh(first->forward(x));
    return use_second ? second->forward(h).pow(2).mean() : h.pow(2).mean();
  }
};

torch::Tensor batch_of(int rank) {
  auto g = torch::arange(30, torch::kFloat).reshape({6, 5});
  return torch::sin(g * (rank + 1));
}

// Per-rank gradients computed alone, then averaged by hand: the reference for the reducer.
std::vector<torch::Tensor> expected_average(int world, const std::vector<bool>& use_second) {
  std::vector<torch::Tensor> sum;
  for (int r = 0; r < world; ++r) {
    Net net;
    net.loss(batch_of(r), use_second[r]).backward();
    auto params = net.params();
    for (size_t k = 0; k < params.size(); ++k) {
      auto g = params[k].grad().defined() ? params[k].grad() : torch::zeros_like(params[k]);
      if (sum.size() <= k) sum.push_back(g.clone());
      else sum[k] += g;
    }
  }
  for (auto& g : sum) g /= world;
  return sum;
}

void check_reducer(bool overlap, int64_t bucket_bytes, const std::vector<bool>& use_second) {
  const int world = static_cast<int>(use_second.size());
  auto expected = expected_average(world, use_second);
  run_ranks(world, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    Net net;
    dist::GradientReducer reducer(
        net.params(), group, dist::GradientReducerOptions().overlap_with_backward(overlap).bucket_bytes(bucket_bytes));
    for (int step = 0; step < 2; ++step) {  // the second step checks that the state resets
      for (auto& p : net.params()) p.mutable_grad() = torch::Tensor();
      net.loss(batch_of(rank), use_second[rank]).backward();
      reducer.synchronize();
      auto params = net.params();
      for (size_t k = 0; k < params.size(); ++k) {
        ASSERT_TRUE(params[k].grad().defined());
        BT_EXPECT_CLOSE(params[k].grad(), expected[k], 1e-7, 1e-6);
      }
    }
  });
}

}  // namespace

TEST(GradientReducer, AveragesWithHooksAndSmallBuckets) { check_reducer(true, 40, {true, true}); }

TEST(GradientReducer, AveragesWithoutHooksInOneBucket) { check_reducer(false, 1 << 20, {true, true}); }

TEST(GradientReducer, UnusedParameterOnOneRankContributesZeros) {
  check_reducer(true, 40, {true, false, true});
}

TEST(GradientReducer, BucketsFollowTheSizeCap) {
  auto group = dist::make_single_process_group();
  Net net;
  dist::GradientReducer single(net.params(), group);
  EXPECT_EQ(single.num_buckets(), 0);  // a world of one does nothing
  run_ranks(2, [](int, std::shared_ptr<dist::ProcessGroup> group) {
    Net net;
    // Parameters (reverse order): 3, 12, 4, 20 floats. A 64-byte cap (16 floats) gives [3,12] [4] [20].
    dist::GradientReducer reducer(net.params(), group, dist::GradientReducerOptions().bucket_bytes(64));
    EXPECT_EQ(reducer.num_buckets(), 3);
  });
}

TEST(GradientReducer, SecondBackwardBeforeSynchronizeIsRejected) {
  run_ranks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    Net net;
    dist::GradientReducer reducer(net.params(), group, dist::GradientReducerOptions().bucket_bytes(1 << 20));
    net.loss(batch_of(rank), true).backward();
    expect_error([&] { net.loss(batch_of(rank), true).backward(); }, "got a second gradient before synchronize()");
    reducer.synchronize();
  });
}
