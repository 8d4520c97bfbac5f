// One pretraining step on a fixed batch: losses finite and falling, the frozen CLIP untouched, the masks
// a function of (seed, step, sample) only, the text cache invisible in the result; and on two ranks the
// real model and loss in `sum` mode equal one process on the global batch, `official` mode gives half of
// the contrastive gradient.
#include <gtest/gtest.h>

#include <chrono>

#include <cmath>
#include <map>

#include "btadapter/train/pretrain_step.h"
#include "dist/run_ranks.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::expect_error;

namespace {

ModelConfig step_config() {
  ModelConfig c;
  c.embed_dim = 16;
  c.vision.width = 32;
  c.vision.layers = 3;
  c.vision.heads = 2;
  c.vision.patch_size = 8;
  c.vision.image_size = 32;
  c.vision.mlp_dim = 64;
  c.text.vocab_size = 500;
  c.text.width = 32;
  c.text.layers = 2;
  c.text.heads = 2;
  c.text.context_length = 16;
  c.text.mlp_dim = 64;
  c.adapter.depth = 2;
  c.adapter.max_frames = 8;
  c.adapter.drop_path = 0.0;
  c.adapter.mask_ratio = 0.5;
  c.adapter.mask_layout = MaskLayout::kOfficial;
  return c;
}

VideoTextModel tiny_model(uint64_t seed = 0) {
  torch::manual_seed(seed);
  VideoTextModel model(step_config());
  model->init_branch_from_clip();
  return model;
}

// A fixed batch of 4 clips (4 frames of 32 px) and 4 distinct captions ending in the largest id (EOT).
train::StepInputs fixed_batch() {
  torch::manual_seed(123);
  train::StepInputs in;
  in.video = torch::randn({4, 4, 3, 32, 32});
  in.text_ids = torch::randint(1, 400, {4, 12}, torch::kLong);
  in.text_ids.select(1, 11).fill_(499);
  in.captions = {"a", "b", "c", "d"};
  in.sample_ids = torch::tensor({3, 1, 4, 0}, torch::kLong);
  return in;
}

train::PretrainStepOptions constant_lr_options(double lr) {
  // Warm-up off and a cosine period far beyond the run: the factor stays ~1.
  return train::PretrainStepOptions(train::ParamGroupOptions(lr),
                                    train::WarmupCosineOptions(1000).warmup_epochs(0).cosine_epochs(100).cosine_end_epoch(100))
      .mask_seed(11);
}

// A fixed global batch of 8 clips with sample ids 0..7; rows(r, w) is rank r's share of it in a world
// of w (rows r, r + w, ...: the loader's interleaved sharding).
struct GlobalBatch {
  train::StepInputs all;
  GlobalBatch() {
    torch::manual_seed(321);
    all.video = torch::randn({8, 4, 3, 32, 32});
    all.text_ids = torch::randint(1, 400, {8, 12}, torch::kLong);
    all.text_ids.select(1, 11).fill_(499);
    all.captions = {"a", "b", "c", "d", "e", "f", "g", "h"};
    all.sample_ids = torch::arange(8, torch::kLong);
  }
  train::StepInputs rows(int64_t rank, int64_t world) const {
    auto index = torch::arange(rank, 8, world, torch::kLong);
    train::StepInputs in;
    in.video = all.video.index_select(0, index);
    in.text_ids = all.text_ids.index_select(0, index);
    for (int64_t i = rank; i < 8; i += world) in.captions.push_back(all.captions[static_cast<size_t>(i)]);
    in.sample_ids = all.sample_ids.index_select(0, index);
    return in;
  }
};

std::map<std::string, torch::Tensor> gradients(const VideoTextModel& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, p] : model->named_trainable_parameters()) {
    if (p.grad().defined()) out[name] = p.grad().clone();  // extra_proj has none without MBTA
  }
  return out;
}

std::map<std::string, torch::Tensor> snapshot(const VideoTextModel& model, bool trainable) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model->named_parameters()) {
    if (item.value().requires_grad() == trainable) out[item.key()] = item.value().detach().clone();
  }
  return out;
}

}  // namespace

TEST(PretrainStep, LossesAreFiniteAndFallOnAFixedBatch) {
  auto model = tiny_model();
  const auto frozen_before = snapshot(model, false);
  const auto trainable_before = snapshot(model, true);
  train::PretrainStep step(model, constant_lr_options(1e-4), dist::make_single_process_group());
  const auto batch = fixed_batch();

  std::vector<train::StepResult> results;
  for (int i = 0; i < 25; ++i) results.push_back(step.run(batch, i));
  for (const auto& r : results) {
    ASSERT_TRUE(std::isfinite(r.loss) && std::isfinite(r.grad_norm)) << r.loss << " " << r.grad_norm;
    EXPECT_TRUE(r.applied);
    EXPECT_NEAR(r.loss, r.vtc + r.mbca + r.mbta, 1e-6 * std::abs(r.loss));  // fp32 terms
    EXPECT_GT(r.mbca, 0.0);
    EXPECT_GT(r.mbta, 0.0);
  }
  const auto& first = results.front();
  const auto& last = results.back();
  // A random frozen CLIP leaves the branch little to align with: 3.75 -> 3.13 over these 25 steps.
  EXPECT_LT(last.loss, 0.9 * first.loss) << first.loss << " -> " << last.loss;
  EXPECT_LT(last.vtc, first.vtc);
  EXPECT_LT(last.mbca, first.mbca);
  EXPECT_LT(last.mbta, first.mbta);

  // The frozen CLIP has not moved by a bit; every trainable tensor has.
  for (const auto& [name, before] : snapshot(model, false)) {
    EXPECT_TRUE(torch::equal(before, frozen_before.at(name))) << name;
  }
  for (const auto& [name, after] : snapshot(model, true)) {
    EXPECT_FALSE(torch::equal(after, trainable_before.at(name))) << name;
  }
}

TEST(PretrainStep, PhaseTimingsArePositiveAndWithinTheStep) {
  auto model = tiny_model();
  train::PretrainStep step(model, constant_lr_options(1e-4), dist::make_single_process_group());
  const auto batch = fixed_batch();
  const auto start = std::chrono::steady_clock::now();
  const auto t = step.run(batch, 0).timings;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (double phase : {t.vision_forward, t.text_forward, t.heads_and_loss, t.backward, t.optimizer}) EXPECT_GT(phase, 0.0);
  EXPECT_GE(t.gradient_sync, 0.0);
  const double sum = t.vision_forward + t.text_forward + t.heads_and_loss + t.backward + t.gradient_sync + t.optimizer;
  EXPECT_LE(sum, wall);
  EXPECT_GT(sum, 0.5 * wall);  // the phases cover the step, not a sliver of it
}

TEST(PretrainStep, ZeroWeightedTermsAreNotComputed) {
  auto model = tiny_model();
  auto options = constant_lr_options(1e-4);
  loss::PretrainLossOptions weights;
  weights.mbca_weight = 0;
  weights.mbta_weight = 0;
  options.loss(weights);
  train::PretrainStep step(model, options, dist::make_single_process_group());
  const auto r = step.run(fixed_batch(), 0);
  EXPECT_EQ(r.mbca, 0.0);
  EXPECT_EQ(r.mbta, 0.0);
  EXPECT_DOUBLE_EQ(r.loss, r.vtc);
  // MBTA's head (extra_proj) was not part of the loss: no gradient reached it.
  for (const auto& p : model->extra_proj->parameters()) {
    EXPECT_TRUE(!p.grad().defined() || p.grad().eq(0).all().item<bool>());
  }
}

TEST(PretrainStep, MasksDependOnSeedStepAndSampleOnly) {
  TubeMaskGenerator generator(16, 0.5, MaskLayout::kOfficial);
  const auto all = train::rank_independent_masks(generator, torch::arange(8, torch::kLong), 4, 5, 2);
  const auto even = train::rank_independent_masks(generator, torch::tensor({0, 2, 4, 6}, torch::kLong), 4, 5, 2);
  const auto odd = train::rank_independent_masks(generator, torch::tensor({7, 5, 3, 1}, torch::kLong), 4, 5, 2);
  EXPECT_EQ(all.layout(), MaskLayout::kOfficial);
  EXPECT_EQ(all.kept_per_frame(), 8);
  for (int64_t k = 0; k < 4; ++k) {
    EXPECT_TRUE(torch::equal(even.pattern()[k], all.pattern()[2 * k]));
    EXPECT_TRUE(torch::equal(odd.pattern()[k], all.pattern()[7 - 2 * k]));
  }
  const auto next_step = train::rank_independent_masks(generator, torch::arange(8, torch::kLong), 4, 5, 3);
  const auto other_seed = train::rank_independent_masks(generator, torch::arange(8, torch::kLong), 4, 6, 2);
  EXPECT_FALSE(torch::equal(next_step.pattern(), all.pattern()));
  EXPECT_FALSE(torch::equal(other_seed.pattern(), all.pattern()));
  // Samples differ from each other within a batch.
  EXPECT_FALSE(torch::equal(all.pattern()[0], all.pattern()[1]));
}

TEST(PretrainStep, TextCacheGivesTheSameUpdates) {
  auto plain = tiny_model(4);
  auto cached = tiny_model(4);
  train::PretrainStep a(plain, constant_lr_options(1e-4), dist::make_single_process_group());
  train::PretrainStep b(cached, constant_lr_options(1e-4).text_cache_bytes(1 << 20), dist::make_single_process_group());
  const auto batch = fixed_batch();
  for (int i = 0; i < 3; ++i) {
    const auto ra = a.run(batch, i);
    const auto rb = b.run(batch, i);
    EXPECT_EQ(ra.loss, rb.loss) << i;
  }
  const auto stats = b.text_cache()->stats();
  EXPECT_EQ(stats.misses, 4);
  EXPECT_EQ(stats.hits, 8);
  auto pa = plain->named_parameters();
  for (const auto& item : cached->named_parameters()) EXPECT_TRUE(torch::equal(item.value(), pa[item.key()])) << item.key();
}

TEST(PretrainStep, TextCacheIsRefusedWhenTheTextTowerTrains) {
  auto model = tiny_model();
  model->set_clip_trainable(true);
  expect_error(
      [&] {
        train::PretrainStep step(model, constant_lr_options(1e-4).text_cache_bytes(1 << 20),
                                 dist::make_single_process_group());
      },
      "run.text_cache_mb > 0 needs a frozen text tower");
}

TEST(PretrainStep, TwoRanksInSumModeMatchOneProcessWithTheGlobalBatch) {
  constexpr int kSteps = 3;
  const GlobalBatch batch;
  // AdamW's first updates are lr * g / (|g| + eps): with the default eps a gradient that is zero in
  // exact arithmetic (attention key biases) but 1e-9 noise in floating point moves by a full +-lr, in
  // either direction. A larger eps keeps such noise from deciding the comparison.
  const auto options = constant_lr_options(1e-3)
                           .eps(1e-3)
                           .gather(dist::GatherMode::kSum)
                           .reducer(dist::GradientReducerOptions().bucket_bytes(4096));  // several buckets
  auto single = tiny_model(5);
  const auto before = snapshot(single, true);
  {
    train::PretrainStep step(single, options, dist::make_single_process_group());
    for (int i = 0; i < kSteps; ++i) step.run(batch.all, i);
  }
  const auto expected = snapshot(single, true);
  // Rank threads share torch's global generator: build their models up front.
  std::vector<VideoTextModel> replicas = {tiny_model(5), tiny_model(5)};
  btadapter::testing::run_ranks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    train::PretrainStep step(replicas[static_cast<size_t>(rank)], options, group);
    for (int i = 0; i < kSteps; ++i) step.run(batch.rows(rank, 2), i);
  });
  // Batch 2 and batch 4 GEMMs round differently (BLAS blocks the rows differently): measured up to
  // 1.5e-5 after 3 steps, against updates of about 3e-3; a wrong reduction differs by about lr = 1e-3.
  for (const auto& replica : replicas) {
    for (const auto& [name, value] : snapshot(replica, true)) {
      EXPECT_LE(btadapter::testing::max_abs_diff(value, expected.at(name)), 3e-5) << name;
    }
  }
  // The comparison is between trained parameters, not two untouched initialisations.
  const std::string cls = "backbone.btadapter_cls_token";
  EXPECT_GT(btadapter::testing::max_abs_diff(expected.at(cls), before.at(cls)), 1e-4);
}

TEST(PretrainStep, OfficialModeGivesHalfTheContrastiveGradientOnTwoRanks) {
  // MBTA off: VTC and MBCA are the contrastive terms the gather mode concerns. Clipping off, so the
  // averaged gradients are left in .grad as they are.
  loss::PretrainLossOptions weights;
  weights.mbta_weight = 0;
  const auto options = constant_lr_options(1e-4).loss(weights).grad_clip(0);
  const GlobalBatch batch;
  auto single = tiny_model(6);
  train::PretrainStep(single, options, dist::make_single_process_group()).run(batch.all, 0);
  const auto expected = gradients(single);

  std::vector<VideoTextModel> sum = {tiny_model(6), tiny_model(6)}, official = {tiny_model(6), tiny_model(6)};
  btadapter::testing::run_ranks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    const auto r = static_cast<size_t>(rank);
    auto with_mode = [&](dist::GatherMode mode) { return train::PretrainStepOptions(options).gather(mode); };
    train::PretrainStep(sum[r], with_mode(dist::GatherMode::kSum), group).run(batch.rows(rank, 2), 0);
    train::PretrainStep(official[r], with_mode(dist::GatherMode::kOfficial), group).run(batch.rows(rank, 2), 0);
  });
  for (size_t r = 0; r < 2; ++r) {
    const auto g_sum = gradients(sum[r]);
    const auto g_official = gradients(official[r]);
    for (const auto& [name, g] : expected) {
      BT_EXPECT_CLOSE(g_sum.at(name), g, 1e-6, 1e-4);
      BT_EXPECT_CLOSE(g_official.at(name) * 2, g_sum.at(name), 1e-9, 1e-6);
    }
  }
}

// One training run of 3 steps on the GPU against the same run on the CPU (float32, TF32 off): losses and
// trained parameters agree. eps as in the two-rank test above, so that 1e-9 gradient noise on exactly
// zero gradients cannot move a parameter by a full lr in either direction.
TEST(PretrainStep, CudaStepsMatchCpu_CUDA) {
  BT_SKIP_WITHOUT_CUDA();
  btadapter::testing::NoTf32Guard fp32;
  const auto options = constant_lr_options(1e-3).eps(1e-3);
  auto cpu_model = tiny_model(5);
  auto gpu_model = tiny_model(5);
  gpu_model->to(torch::kCUDA);
  const auto before = snapshot(cpu_model, true);
  train::PretrainStep cpu_step(cpu_model, options, dist::make_single_process_group());
  train::PretrainStep gpu_step(gpu_model, options, dist::make_single_process_group());
  const auto batch = fixed_batch();
  auto on_gpu = batch;
  on_gpu.video = batch.video.cuda();
  on_gpu.text_ids = batch.text_ids.cuda();
  for (int i = 0; i < 3; ++i) {
    const auto a = cpu_step.run(batch, i), b = gpu_step.run(on_gpu, i);
    EXPECT_NEAR(b.loss, a.loss, 1e-4 * std::abs(a.loss)) << "step " << i;
    EXPECT_NEAR(b.vtc, a.vtc, 1e-4 * std::abs(a.vtc)) << "step " << i;
    EXPECT_NEAR(b.mbca, a.mbca, 1e-4 * std::abs(a.mbca)) << "step " << i;
    EXPECT_NEAR(b.mbta, a.mbta, 1e-4 * std::abs(a.mbta)) << "step " << i;
  }
  // Updates are about 3e-3 after 3 steps at lr 1e-3; a wrong gradient or a lost update differs by ~lr.
  const auto expected = snapshot(cpu_model, true);
  for (const auto& [name, value] : snapshot(gpu_model, true)) {
    EXPECT_TRUE(value.is_cuda()) << name;
    EXPECT_LE(btadapter::testing::max_abs_diff(value.cpu(), expected.at(name)), 5e-5) << name;
  }
  const std::string cls = "backbone.btadapter_cls_token";
  EXPECT_GT(btadapter::testing::max_abs_diff(expected.at(cls), before.at(cls)), 1e-4);
}
