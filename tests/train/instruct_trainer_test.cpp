// run_instruct_training (bt_instruct) on the conversation fixture's model: 2 Gloo ranks with batch 2
// write the same adapter as 1 process with batch 4; an interrupted run resumed from its checkpoint
// writes bit-identical weights to an uninterrupted one; the log, config and checkpoints are written.
#include <gtest/gtest.h>

#include "btadapter/train/instruct_trainer.h"
#include "dist/run_ranks.h"
#include "train/instruct_fixture.h"

#include <sstream>

using namespace btadapter;
using namespace btadapter::testing;

namespace {

// Eight samples (features and answers differ), the toy tokenizer, and a config over them.
train::TrainConfig tiny_instruct_config(const TempDir& dir, const std::string& output, int64_t batch) {
  const auto& f = conversation_fixture();
  write_toy_llama_model(f.file("config.json"), dir / "toy.model");
  const torch::Tensor base = f.in("train.features")[0];
  const std::vector<std::string> answers = {"slicing", "The man is slicing tomatoes.", "tomatoes", "in the kitchen"};
  nlohmann::json rows = nlohmann::json::array();
  for (int i = 0; i < 8; ++i) {
    const std::string stem = "v" + std::to_string(i);
    write_features(dir, stem, base * (1.0 + 0.05 * i) - 0.02 * i);
    rows.push_back(instruction_row(stem, "What is the man doing in this video?", answers[i % 4]));
  }
  train::TrainConfig c;
  c.instruct.llm = f.file("llama.safetensors");
  c.instruct.clip = f.file("vision_tower_clip.safetensors");
  c.instruct.adapter = f.file("btadapter.safetensors");
  c.instruct.projector = f.file("mm_projector.safetensors");
  c.instruct.tokenizer = (dir / "toy.model").string();
  c.instruct.annotations = write_json(dir, "rows.json", rows);
  c.instruct.features = (dir / "features").string();
  c.data.batch_size = batch;
  c.optim.lr = 1e-3;
  c.optim.weight_decay = 0.0;
  c.optim.lr_mult = {};
  c.schedule.epochs = 2;
  c.schedule.warmup_epochs = 0.5;
  c.schedule.cosine_epochs = 1.5;
  c.schedule.cosine_end_epoch = 2.0;
  c.run.output_dir = (dir / output).string();
  c.run.device = "cpu";
  c.run.log_every = 1;
  c.checkpoint.every_steps = 1;
  train::validate(c);
  return c;
}

io::TensorMap adapter_of(const train::TrainConfig& c) { return io::read_safetensors(c.run.output_dir + "/adapter.safetensors"); }

}  // namespace

TEST(InstructTrainer, TwoGlooRanksWriteTheAdapterOfOneProcessWithTheDoubledBatch) {
  TempDir dir;
  std::ostringstream quiet;
  const train::TrainConfig single = tiny_instruct_config(dir, "single", 4);
  const train::InstructSummary summary = train::run_instruct_training(single, train::InstructTrainerOptions().log(&quiet));
  EXPECT_EQ(summary.steps_per_epoch, 2);
  EXPECT_EQ(summary.steps, 4);
  EXPECT_EQ(summary.data.usable, 8);

  const train::TrainConfig two = tiny_instruct_config(dir, "two", 2);
  run_ranks(2, [&](int, std::shared_ptr<dist::ProcessGroup> group) {
    std::ostringstream log;
    train::run_instruct_training(two, train::InstructTrainerOptions().group(group).log(&log));
  });
  const io::TensorMap a = adapter_of(single), b = adapter_of(two);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) expect_adamw_runs_match(b.at(name), t, single.optim.lr, name);
  EXPECT_FALSE(torch::equal(a.at("model.vision_tower.btadapter_cls_token"),
                            io::read_safetensors(single.instruct.adapter).at("model.vision_tower.btadapter_cls_token")));
  std::ifstream log(single.run.output_dir + "/train_log.jsonl");
  int records = 0;
  for (std::string line; std::getline(log, line);) records += line.find("\"loss\"") != std::string::npos;
  EXPECT_EQ(records, 4);
  EXPECT_TRUE(std::filesystem::exists(single.run.output_dir + "/config.yaml"));
}

TEST(InstructTrainer, ResumeAfterAnInterruptionGivesBitIdenticalWeights) {
  TempDir dir;
  std::ostringstream quiet;
  const train::TrainConfig straight = tiny_instruct_config(dir, "straight", 2);
  train::run_instruct_training(straight, train::InstructTrainerOptions().log(&quiet));

  train::TrainConfig interrupted = tiny_instruct_config(dir, "interrupted", 2);
  interrupted.schedule.max_steps = 3;  // stops inside the second epoch, as a killed run would after a checkpoint
  train::run_instruct_training(interrupted, train::InstructTrainerOptions().log(&quiet));
  interrupted.schedule.max_steps = 0;
  const train::InstructSummary resumed =
      train::run_instruct_training(interrupted, train::InstructTrainerOptions().require_resume(true).log(&quiet));
  EXPECT_EQ(resumed.start_step, 3);
  EXPECT_EQ(resumed.steps, 8);
  const io::TensorMap a = adapter_of(straight), b = adapter_of(interrupted);
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(b.at(name), t)) << name;
  const io::TensorMap pa = io::read_safetensors(straight.run.output_dir + "/mm_projector.safetensors");
  const io::TensorMap pb = io::read_safetensors(interrupted.run.output_dir + "/mm_projector.safetensors");
  for (const auto& [name, t] : pa) EXPECT_TRUE(torch::equal(pb.at(name), t)) << name;

  train::TrainConfig fresh = tiny_instruct_config(dir, "fresh", 2);
  expect_error([&] { train::run_instruct_training(fresh, train::InstructTrainerOptions().require_resume(true).log(&quiet)); },
               "no checkpoint to resume from");
}

TEST(InstructTrainer, MissingInputsAreListedWithTheirKeys) {
  train::TrainConfig c;
  c.instruct.features = "/no/such/features";
  expect_error([&] { train::run_instruct_training(c); }, "instruct.llm is not set");
  expect_error([&] { train::run_instruct_training(c); }, "instruct.features: no such folder '/no/such/features'");
}
