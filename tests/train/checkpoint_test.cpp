#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "btadapter/train/checkpoint.h"
#include "btadapter/train/lr_schedule.h"
#include "dist/run_ranks.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::expect_error;
using namespace btadapter::train;
namespace fs = std::filesystem;

namespace {

// A tiny trainable model that draws random numbers in forward (dropout), so RNG restoration matters.
struct Tiny : torch::nn::Module {
  torch::nn::Linear first{nullptr}, second{nullptr};
  torch::nn::Dropout dropout{nullptr};
  Tiny() {
    first = register_module("first", torch::nn::Linear(6, 8));
    second = register_module("second", torch::nn::Linear(8, 3));
    dropout = register_module("dropout", torch::nn::Dropout(0.3));
    register_parameter("frozen_scale", torch::ones({3}), /*requires_grad=*/false);
  }
  torch::Tensor forward(const torch::Tensor& x) { return second->forward(dropout->forward(torch::relu(first->forward(x)))); }
};

// The deterministic synthetic "loader": batch i is a function of i only; its position is the next index.
std::pair<torch::Tensor, torch::Tensor> batch(int64_t index) {
  auto x = torch::sin(torch::arange(24, torch::kFloat).reshape({4, 6}) * 0.3f + static_cast<float>(index));
  return {x, torch::cos(x.narrow(1, 0, 3) * 2.0f)};
}

// Trainer state for the test: model, groups, AdamW, schedule.
struct TinyRun {
  std::shared_ptr<Tiny> model = std::make_shared<Tiny>();
  std::vector<ParamGroup> groups;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  WarmupCosineSchedule schedule{WarmupCosineOptions(4)};
  int64_t step = 0;

  TinyRun() {
    groups = build_param_groups(trainable_parameters(*model), ParamGroupOptions(1e-2).rules({{"second", 10.0}}));
    optimizer = make_adamw(groups, {0.9, 0.98}, 1e-8);
  }

  void train_steps(int64_t n) {
    for (int64_t i = 0; i < n; ++i, ++step) {
      set_learning_rates(*optimizer, groups, schedule.factor(step));
      optimizer->zero_grad();
      auto [x, y] = batch(step);
      (model->forward(x) - y).pow(2).mean().backward();
      clip_grad_norm(model->parameters(), 0.5);
      optimizer->step();
    }
  }

  Checkpoint capture() const {
    TrainingProgress p;
    p.step = step;
    p.loader_state = "{\"next\": " + std::to_string(step) + "}";
    p.config_yaml = "optim:\n  lr: 0.01\n";
    return capture_checkpoint(trainable_parameters(*model), *optimizer, p, {capture_rng_state()});
  }
};

void expect_identical(Tiny& a, Tiny& b) {
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

}  // namespace

TEST(Checkpoint, ResumeIsBitIdentical) {
  const int64_t n = 5;
  btadapter::testing::TempDir dir;
  CheckpointManager manager(CheckpointManagerOptions((dir / "ckpt").string()));

  torch::manual_seed(1);
  TinyRun straight;
  straight.train_steps(2 * n);

  torch::manual_seed(1);
  TinyRun first_half;
  first_half.train_steps(n);
  manager.save(first_half.capture());

  torch::manual_seed(99);  // a new process: other initial weights, another RNG position
  torch::rand({17});
  TinyRun resumed;
  auto latest = manager.load_latest();
  ASSERT_TRUE(latest.has_value());
  restore_checkpoint(latest->checkpoint, trainable_parameters(*resumed.model), *resumed.optimizer);
  restore_rng_state(latest->checkpoint.rng.at(0));
  resumed.step = latest->checkpoint.progress.step;
  EXPECT_EQ(latest->checkpoint.progress.loader_state, "{\"next\": 5}");
  EXPECT_EQ(latest->checkpoint.progress.config_yaml, "optim:\n  lr: 0.01\n");
  resumed.train_steps(n);

  expect_identical(*straight.model, *resumed.model);
  // And the optimizer state continued too (not re-initialised).
  auto s1 = capture_checkpoint(trainable_parameters(*straight.model), *straight.optimizer, {}, {});
  auto s2 = capture_checkpoint(trainable_parameters(*resumed.model), *resumed.optimizer, {}, {});
  for (const auto& [key, t] : s1.optimizer) EXPECT_TRUE(torch::equal(t, s2.optimizer.at(key))) << key;
}

TEST(Checkpoint, RoundTripKeepsEveryField) {
  btadapter::testing::TempDir dir;
  TinyRun run;
  run.train_steps(2);
  auto original = run.capture();
  original.progress.epoch = 3;
  original.progress.samples_seen = 1234;
  original.progress.world_size = 2;
  original.rng.push_back(RngState{torch::arange(5, torch::kByte), {torch::arange(3, torch::kByte)}});
  write_checkpoint((dir / "c.pt").string(), original);
  auto back = read_checkpoint((dir / "c.pt").string());
  EXPECT_EQ(back.progress.step, 2);
  EXPECT_EQ(back.progress.epoch, 3);
  EXPECT_EQ(back.progress.samples_seen, 1234);
  EXPECT_EQ(back.progress.world_size, 2);
  ASSERT_EQ(back.params.size(), 4u);  // the frozen parameter is not stored
  EXPECT_EQ(back.params.count("frozen_scale"), 0u);
  for (const auto& [name, t] : original.params) EXPECT_TRUE(torch::equal(t, back.params.at(name))) << name;
  ASSERT_EQ(back.optimizer.size(), 12u);
  EXPECT_EQ(back.optimizer.at("first.weight/step").item<int64_t>(), 2);
  ASSERT_EQ(back.rng.size(), 2u);
  EXPECT_TRUE(torch::equal(back.rng[0].cpu, original.rng[0].cpu));
  EXPECT_TRUE(torch::equal(back.rng[1].cuda.at(0), torch::arange(3, torch::kByte)));
}

TEST(Checkpoint, ManagerKeepsTheLastKAndIgnoresTempAndTruncatedFiles) {
  btadapter::testing::TempDir dir;
  CheckpointManager manager(CheckpointManagerOptions((dir / "ckpt").string()).keep_last(2));
  EXPECT_FALSE(manager.load_latest().has_value());  // no folder yet
  TinyRun run;
  for (int i = 0; i < 3; ++i) {
    run.train_steps(1);
    manager.save(run.capture());
  }
  auto files = manager.list();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(fs::path(files[0]).filename(), "checkpoint-00000002.pt");
  EXPECT_EQ(fs::path(files[1]).filename(), "checkpoint-00000003.pt");

  // A run killed while writing step 4 left its temp file behind: not a checkpoint.
  std::ofstream((dir / "ckpt/checkpoint-00000004.pt.tmp.4242").string()) << "partial";
  // A truncated step-5 file with the final name (a copy cut short): read fails, the previous one is used.
  {
    std::ifstream in(files[1], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream((dir / "ckpt/checkpoint-00000005.pt").string(), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  std::vector<std::string> skipped;
  auto latest = manager.load_latest(&skipped);
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->checkpoint.progress.step, 3);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("checkpoint-00000005.pt: checkpoint"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[0].find("unreadable (truncated or corrupt)"), std::string::npos) << skipped[0];
  EXPECT_EQ(manager.list().size(), 3u);  // the temp file is not listed
}

TEST(Checkpoint, ForeignOrMismatchedFilesAreClearErrors) {
  btadapter::testing::TempDir dir;
  {
    auto bytes = torch::pickle_save(torch::ones({2}));  // a readable torch file, but not a checkpoint
    std::ofstream((dir / "tensor.pt").string(), std::ios::binary).write(bytes.data(), bytes.size());
  }
  expect_error([&] { read_checkpoint((dir / "tensor.pt").string()); }, "not a btadapter checkpoint");
  expect_error([&] { read_checkpoint((dir / "missing.pt").string()); }, "cannot open checkpoint");

  TinyRun run;
  run.train_steps(1);
  auto checkpoint = run.capture();
  TinyRun other;
  auto reshaped = checkpoint;
  reshaped.params["first.bias"] = torch::zeros({9});
  expect_error([&] { restore_checkpoint(reshaped, trainable_parameters(*other.model), *other.optimizer); },
               "checkpoint parameter 'first.bias' has shape [9], the model's is [8]");
  auto missing = checkpoint;
  missing.params.erase("second.weight");
  expect_error([&] { restore_checkpoint(missing, trainable_parameters(*other.model), *other.optimizer); },
               "checkpoint has no parameter 'second.weight'");
  auto extra = checkpoint;
  extra.params["third.weight"] = torch::zeros({1});
  expect_error([&] { restore_checkpoint(extra, trainable_parameters(*other.model), *other.optimizer); },
               "'third.weight' is not a trainable parameter");
  // Nothing was changed by the failed attempts.
  EXPECT_FALSE(torch::equal(other.model->first->bias, run.model->first->bias));
}

TEST(RngState, RestoreReplaysTheSameDraws) {
  torch::manual_seed(5);
  auto state = capture_rng_state();
  auto a = torch::rand({8});
  restore_rng_state(state);
  auto b = torch::rand({8});
  EXPECT_TRUE(torch::equal(a, b));
  auto group = dist::make_single_process_group();
  auto all = gather_rng_states(*group);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].cpu.defined());
}

TEST(RngState, GatherCollectsEveryRank) {
  btadapter::testing::run_ranks(2, [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    auto all = gather_rng_states(*group);
    ASSERT_EQ(all.size(), 2u);
    // The rank threads share one process generator: both entries equal this process's state.
    auto mine = capture_rng_state();
    for (const auto& s : all) {
      EXPECT_TRUE(torch::equal(s.cpu, mine.cpu));
      EXPECT_EQ(s.cuda.size(), mine.cuda.size());
    }
  });
}
