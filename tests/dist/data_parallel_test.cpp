// Data-parallel training is equivalent to single-process training on the global batch: a stand-in for
// the video-text model (linear "video encoder" and head trained, linear "text encoder" frozen), a
// symmetric InfoNCE on gathered features plus a per-rank MSE term, AdamW with gradient clipping.
#include <gtest/gtest.h>

#include "btadapter/dist/gather.h"
#include "btadapter/dist/gradient_reducer.h"
#include "dist/run_ranks.h"

using namespace btadapter;
using btadapter::testing::run_ranks;

namespace {

constexpr int64_t kGlobalBatch = 8;
constexpr int kSteps = 4;

struct StandIn {
  torch::nn::Linear video{nullptr}, head{nullptr}, text{nullptr};
  StandIn() {
    video = torch::nn::Linear(6, 4);
    head = torch::nn::Linear(4, 4);
    text = torch::nn::Linear(5, 4);
    btadapter::testing::deterministic_init(*video, 0.0);
    btadapter::testing::deterministic_init(*head, 1.0);
    btadapter::testing::deterministic_init(*text, 2.0);
    for (auto& p : text->parameters()) p.requires_grad_(false);  // the frozen tower
  }
  std::vector<torch::Tensor> trainable() const {
    auto p = video->parameters();
    auto q = head->parameters();
    p.insert(p.end(), q.begin(), q.end());
    return p;
  }
};

// Deterministic global batch of one step (all ranks build the same, then take their rows).
struct Batch {
  torch::Tensor videos, captions, targets;
  Batch slice(int64_t begin, int64_t rows) const {
    return {videos.narrow(0, begin, rows), captions.narrow(0, begin, rows), targets.narrow(0, begin, rows)};
  }
};

Batch global_batch(int step) {
  auto g = torch::arange(kGlobalBatch * 6, torch::kFloat).reshape({kGlobalBatch, 6});
  auto c = torch::arange(kGlobalBatch * 5, torch::kFloat).reshape({kGlobalBatch, 5});
  return {torch::sin(g * 0.37f + step), torch::cos(c * 0.21f - step), torch::sin(g.narrow(1, 0, 4) + 2 * step)};
}

torch::Tensor info_nce(const torch::Tensor& v, const torch::Tensor& t) {
  auto logits = torch::matmul(torch::nn::functional::normalize(v, torch::nn::functional::NormalizeFuncOptions().dim(1)),
                              torch::nn::functional::normalize(t, torch::nn::functional::NormalizeFuncOptions().dim(1)).t()) *
                10.0;
  auto labels = torch::arange(v.size(0), torch::kLong);
  return torch::nn::functional::cross_entropy(logits, labels) + torch::nn::functional::cross_entropy(logits.t(), labels);
}

torch::Tensor step_loss(StandIn& model, const Batch& b, dist::ProcessGroup& group, dist::GatherMode mode,
                        double mse_weight) {
  auto v = model.video->forward(b.videos);
  torch::Tensor t;
  {
    torch::NoGradGuard frozen;
    t = model.text->forward(b.captions);
  }
  auto contrastive = info_nce(dist::gather_with_grad(v, group, mode), dist::gather_with_grad(t, group, mode));
  auto mse = (model.head->forward(v) - b.targets).pow(2).mean();
  return contrastive + mse_weight * mse;
}

// Trains kSteps and returns the trainable parameters.
std::vector<torch::Tensor> train(int rank, std::shared_ptr<dist::ProcessGroup> group, dist::GatherMode mode) {
  StandIn model;
  torch::optim::AdamW optimizer(model.trainable(), torch::optim::AdamWOptions(1e-2).betas({0.9, 0.98}).weight_decay(0.05));
  dist::GradientReducer reducer(model.trainable(), group, dist::GradientReducerOptions().bucket_bytes(64));
  const int64_t rows = kGlobalBatch / group->world_size();
  for (int step = 0; step < kSteps; ++step) {
    optimizer.zero_grad();
    step_loss(model, global_batch(step).slice(rank * rows, rows), *group, mode, 0.1).backward();
    reducer.synchronize();
    torch::nn::utils::clip_grad_norm_(model.trainable(), 0.5);
    optimizer.step();
  }
  std::vector<torch::Tensor> out;
  for (auto& p : model.trainable()) out.push_back(p.detach().clone());
  return out;
}

// Gradient of the contrastive loss alone after one data-parallel backward and averaging.
std::vector<torch::Tensor> contrastive_gradient(int rank, std::shared_ptr<dist::ProcessGroup> group,
                                                dist::GatherMode mode) {
  StandIn model;
  dist::GradientReducer reducer(model.trainable(), group);
  const int64_t rows = kGlobalBatch / group->world_size();
  step_loss(model, global_batch(0).slice(rank * rows, rows), *group, mode, 0.0).backward();
  reducer.synchronize();
  std::vector<torch::Tensor> out;
  for (auto& p : model.trainable()) out.push_back(p.grad().clone());
  return out;
}

}  // namespace

TEST(DataParallel, TwoRanksInSumModeMatchOneProcessOnTheGlobalBatch) {
  auto single = train(0, dist::make_single_process_group(), dist::GatherMode::kSum);
  run_ranks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    auto parallel = train(rank, group, dist::GatherMode::kSum);
    ASSERT_EQ(parallel.size(), single.size());
    for (size_t k = 0; k < single.size(); ++k) {
      EXPECT_LE(btadapter::testing::max_abs_diff(parallel[k], single[k]), 1e-5) << "parameter " << k;
      // The parameters moved: the comparison is not between two untouched initialisations.
      EXPECT_GT(btadapter::testing::max_abs_diff(parallel[k], StandIn().trainable()[k]), 1e-3);
    }
  });
}

TEST(DataParallel, OfficialModeGivesOneOverWorldSizeOfTheContrastiveGradient) {
  auto single = contrastive_gradient(0, dist::make_single_process_group(), dist::GatherMode::kSum);
  run_ranks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    auto sum = contrastive_gradient(rank, group, dist::GatherMode::kSum);
    auto official = contrastive_gradient(rank, group, dist::GatherMode::kOfficial);
    for (size_t k = 0; k < sum.size(); ++k) {
      BT_EXPECT_CLOSE(sum[k], single[k], 1e-6, 1e-5);
      // Every rank computes the same global loss, so the two modes differ by exactly a factor 2.
      EXPECT_TRUE(torch::equal(official[k] * 2, sum[k])) << "parameter " << k << " max diff "
                                                          << btadapter::testing::max_abs_diff(official[k] * 2, sum[k]);
    }
  });
}
