// The pretraining job end to end on the synthetic moving-shapes videos with configs/tiny.yaml: files
// written, exact resume, the CLIP stage feeding the adapter stage, 2 processes = 1 process, and the
// messages of bt_pretrain for missing inputs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <future>
#include <memory>
#include <vector>

#include "btadapter/data/synthetic.h"
#include "btadapter/io/model_file.h"
#include "btadapter/io/state_dict.h"
#include "btadapter/train/model_setup.h"
#include "btadapter/train/trainer.h"
#include "dist/run_ranks.h"
#include "train/branch_parameters.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::error_of;
using btadapter::testing::expect_error;
using btadapter::testing::fixture_path;
using btadapter::testing::is_branch_parameter;
using btadapter::testing::run_command;
using btadapter::testing::source_dir;
using btadapter::testing::TempDir;
using btadapter::testing::tool_path;

namespace {

class TrainingLoop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = std::make_unique<TempDir>();
    data_ = data::make_synthetic_dataset(
        data::SyntheticOptions(data_dir_->path().string()).train_videos(16).test_videos(8).frames(8).size(32).seed(1));
  }
  static void TearDownTestSuite() { data_dir_.reset(); }

  // configs/tiny.yaml on the synthetic data, writing into `out`.
  static std::vector<std::string> data_overrides(const std::string& out) {
    return {"data.annotations=" + data_.train_csv,
            "data.video_root=" + data_.train_root,
            "eval.annotations=" + data_.test_json,
            "eval.video_root=" + data_.test_root,
            "model.tokenizer.vocab=" + fixture_path("tokenizer/bpe_simple_vocab_16e6.txt.gz").string(),
            "run.output_dir=" + out};
  }
  static train::TrainConfig tiny(const std::string& out, const std::vector<std::string>& extra = {},
                                 const std::string& file = "configs/tiny.yaml") {
    auto overrides = data_overrides(out);
    overrides.insert(overrides.end(), extra.begin(), extra.end());
    return train::load_train_config((source_dir() / file).string(), overrides);
  }
  static std::string tool_command(const std::string& out, const std::vector<std::string>& extra) {
    std::string command = tool_path("bt_pretrain").string() + " --config " + (source_dir() / "configs/tiny.yaml").string();
    for (const auto& o : data_overrides(out)) command += " --set '" + o + "'";
    for (const auto& o : extra) command += " --set '" + o + "'";
    return command + " 2>&1";
  }

  static std::unique_ptr<TempDir> data_dir_;
  static data::SyntheticDataset data_;
  std::ostringstream log_;
};
std::unique_ptr<TempDir> TrainingLoop::data_dir_;
data::SyntheticDataset TrainingLoop::data_;

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> records;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
  return records;
}

}  // namespace

TEST_F(TrainingLoop, RunsEndToEndAndWritesLogsCheckpointAndModelFile) {
  TempDir out;
  const auto config = tiny(out.path().string());
  train::Trainer trainer(config, train::TrainerOptions().log(&log_));
  const auto summary = trainer.run();
  EXPECT_EQ(summary.steps_per_epoch, 4);  // 16 clips / batch 4
  EXPECT_EQ(summary.steps, 4);
  EXPECT_TRUE(std::isfinite(summary.last.loss)) << log_.str();
  EXPECT_EQ(summary.skipped_steps, 0);
  EXPECT_EQ(summary.replaced, 0);

  const auto records = read_jsonl((out / "train_log.jsonl").string());
  ASSERT_EQ(records.size(), 5u) << log_.str();  // 4 steps (log_every 1) + the validation
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(records[i]["step"], i + 1);
    for (const char* key : {"loss", "vtc", "mbca", "mbta", "grad_norm", "lr", "data_wait_s", "compute_s"}) {
      ASSERT_TRUE(records[i][key].is_number()) << key << " in " << records[i].dump();
    }
    EXPECT_GT(records[i]["mbta"].get<double>(), 0.0);
    EXPECT_EQ(records[i]["replaced"], 0);
  }
  EXPECT_LT(records[0]["lr"].get<double>(), records[3]["lr"].get<double>());  // warm-up
  EXPECT_EQ(records[4]["step"], 4);
  EXPECT_DOUBLE_EQ(records[4]["val_t2v_r10"].get<double>(), 100.0);  // 8 test videos
  EXPECT_EQ(summary.validation.size(), 10u);

  EXPECT_TRUE(std::filesystem::exists(out / "config.yaml"));
  EXPECT_TRUE(std::filesystem::exists(out / "checkpoints" / "checkpoint-00000004.pt"));
  EXPECT_EQ(summary.checkpoint, (out / "checkpoints" / "checkpoint-00000004.pt").string());

  // The model file is self-contained and holds exactly the trained model.
  const auto file = io::load_model_file(summary.model_file);
  EXPECT_EQ(model_config_to_json(file.config), model_config_to_json(trainer.model()->config()));
  const auto state = io::state_dict(*trainer.model());
  ASSERT_EQ(file.tensors.size(), state.size());
  for (const auto& [name, tensor] : state) EXPECT_TRUE(torch::equal(file.tensors.at(name), tensor)) << name;

  // CLIP is bit for bit the random CLIP the run started from; the branch has trained.
  torch::manual_seed(static_cast<uint64_t>(config.run.seed));
  const auto fresh = io::state_dict(*train::build_pretrain_model(config.model).model);
  for (const auto& [name, tensor] : fresh) {
    EXPECT_EQ(torch::equal(file.tensors.at(name), tensor), !is_branch_parameter(name)) << name;
  }
}

TEST_F(TrainingLoop, ResumeContinuesBitForBit) {
  // 6 steps over an epoch boundary (4 steps per epoch), with drop path on so that the restored RNG
  // state matters; 3 + resume + 3 must equal 6 straight.
  const std::vector<std::string> common = {"schedule.epochs=2", "model.adapter.drop_path=0.1", "eval.at_end=false",
                                           "checkpoint.every_steps=0"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return extra;
  };
  TempDir straight, split;
  const auto a = train::Trainer(tiny(straight.path().string(), with({"schedule.max_steps=6"})),
                                train::TrainerOptions().log(&log_))
                     .run();
  const auto first = train::Trainer(tiny(split.path().string(), with({"schedule.max_steps=3"})),
                                    train::TrainerOptions().log(&log_))
                         .run();
  EXPECT_EQ(first.steps, 3);
  // As if a later attempt had been killed at step 5 while writing a checkpoint: its log records and a
  // temporary file (writer pid 999999999, long gone) remain; the resume from step 3 cleans both.
  std::ofstream(split / "train_log.jsonl", std::ios::app) << "{\"step\":4}\n{\"step\":5}\n{\"st";
  const auto stale = split / "checkpoints" / "checkpoint-00000005.pt.tmp.999999999.pt";
  std::ofstream(stale) << "partial";
  train::Trainer resumed(tiny(split.path().string(), with({"schedule.max_steps=6"})),
                         train::TrainerOptions().require_resume(true).log(&log_));
  EXPECT_EQ(resumed.step(), 3);
  EXPECT_FALSE(std::filesystem::exists(stale));
  const auto b = resumed.run();
  EXPECT_EQ(b.start_step, 3);
  EXPECT_EQ(b.steps, 6);
  EXPECT_EQ(a.last.loss, b.last.loss);
  std::vector<int64_t> steps;
  for (const auto& record : read_jsonl((split / "train_log.jsonl").string())) steps.push_back(record["step"].get<int64_t>());
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6})) << log_.str();

  const auto ma = io::load_model_file(a.model_file).tensors;
  const auto mb = io::load_model_file(b.model_file).tensors;
  ASSERT_EQ(ma.size(), mb.size());
  for (const auto& [name, tensor] : ma) EXPECT_TRUE(torch::equal(tensor, mb.at(name))) << name;
}

// run.precision bf16 on CPU trains under CPU autocast and says how it set the CPU up; with gradient
// checkpointing it is refused (the recomputation does not reproduce the bf16 forward yet).
TEST_F(TrainingLoop, CpuBf16AutocastTrains) {
  TempDir out;
  const auto summary = train::Trainer(tiny(out.path().string(), {"schedule.max_steps=2", "eval.at_end=false",
                                                                 "run.precision=bf16"}),
                                      train::TrainerOptions().log(&log_))
                           .run();
  EXPECT_EQ(summary.steps, 2);
  EXPECT_TRUE(std::isfinite(summary.last.loss) && summary.last.loss > 0) << summary.last.loss;
  EXPECT_NE(log_.str().find("cpu: cores "), std::string::npos) << log_.str();
  expect_error(
      [&] {
        train::Trainer(tiny(out.path().string(), {"run.precision=bf16", "model.gradient_checkpointing=true"}),
                       train::TrainerOptions().log(&log_));
      },
      "does not work with model.gradient_checkpointing");
}

TEST_F(TrainingLoop, ResumeFlagWithoutCheckpointFails) {
  TempDir out;
  expect_error(
      [&] {
        train::Trainer trainer(tiny(out.path().string()), train::TrainerOptions().require_resume(true).log(&log_));
      },
      "--resume: no checkpoint to resume from in " + out.path().string());
}

TEST_F(TrainingLoop, ClipStageFeedsTheAdapterStage) {
  TempDir clip_out, adapter_out;
  const auto clip_config = tiny(clip_out.path().string(), {"schedule.max_steps=3", "eval.at_end=false"},
                                "configs/tiny_clip.yaml");
  const auto stage0 = train::Trainer(clip_config, train::TrainerOptions().log(&log_)).run();
  EXPECT_EQ(stage0.steps, 3);
  EXPECT_EQ(stage0.last.mbca, 0.0);
  EXPECT_EQ(stage0.last.mbta, 0.0);
  const auto clip = io::load_model_file(stage0.model_file);
  EXPECT_EQ(clip.config.adapter.depth, 0);
  torch::manual_seed(static_cast<uint64_t>(clip_config.run.seed));
  const auto untrained = io::state_dict(*train::build_pretrain_model(clip_config.model).model);
  for (const auto& [name, tensor] : untrained) {
    if (name.find("token_embedding") == std::string::npos) {  // rows of unseen tokens keep only weight decay
      EXPECT_FALSE(torch::equal(clip.tensors.at(name), tensor)) << name << " did not train";
    }
  }

  const auto stage1 = train::Trainer(tiny(adapter_out.path().string(),
                                          {"model.random_clip=false", "model.clip=" + stage0.model_file,
                                           "schedule.max_steps=2", "eval.at_end=false"}),
                                     train::TrainerOptions().log(&log_))
                          .run();
  const auto adapted = io::load_model_file(stage1.model_file);
  EXPECT_EQ(adapted.config.adapter.depth, 2);
  EXPECT_EQ(adapted.config.vision.heads, clip.config.vision.heads);
  for (const auto& [name, tensor] : clip.tensors) {
    EXPECT_TRUE(torch::equal(adapted.tensors.at(name), tensor)) << name << " changed while frozen";
  }
}

TEST_F(TrainingLoop, TwoProcessesMatchOneProcessWithTheGlobalBatch) {
  // Global batch 8 both ways; the gather in `sum` mode makes the two runs the same computation up to
  // floating-point summation order. 2 epochs of 2 steps. AdamW's eps is raised as in PretrainStep's
  // test: gradients that are zero in exact arithmetic (attention key biases) are ~1e-9 noise in fp32,
  // and with eps 1e-8 AdamW turns that noise into +-lr updates that differ between the two runs.
  TempDir one, two;
  const std::vector<std::string> common = {"schedule.epochs=2", "eval.at_end=false", "checkpoint.every_steps=0",
                                           "loss.gather=sum", "optim.eps=1e-3"};
  auto args = [&](const std::string& batch) {
    auto extra = common;
    extra.push_back("data.batch_size=" + batch);
    return extra;
  };
  const auto single = run_command(tool_command(one.path().string(), args("8")));
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const auto pair = run_command((source_dir() / "scripts/launch_local.sh").string() + " 2 " +
                                tool_command(two.path().string(), args("4")));
  ASSERT_EQ(pair.exit_code, 0) << pair.output;

  const auto a = io::load_model_file((one / "model.safetensors").string()).tensors;
  const auto b = io::load_model_file((two / "model.safetensors").string()).tensors;
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    if (is_branch_parameter(name)) {
      BT_EXPECT_CLOSE(b.at(name), tensor, 1e-5, 0.0);
    } else {
      EXPECT_TRUE(torch::equal(b.at(name), tensor)) << name;
    }
  }
  const auto la = read_jsonl((one / "train_log.jsonl").string());
  const auto lb = read_jsonl((two / "train_log.jsonl").string());
  ASSERT_EQ(la.size(), 4u);
  ASSERT_EQ(lb.size(), 4u);
  for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(la[i]["loss"].get<double>(), lb[i]["loss"].get<double>(), 1e-4);
}

TEST_F(TrainingLoop, AStalledRankFailsTheOthersWithTheRankNamed) {
  // Rank 1 stalls in its validation after step 1 (until rank 0 has given up); rank 0 goes on to step 2,
  // whose feature gather must fail within the collective timeout, naming where each rank was.
  TempDir out;
  const auto config = tiny(out.path().string(), {"eval.every_steps=1", "eval.at_end=false", "schedule.max_steps=3"});
  std::promise<void> rank0_failed;  // rank 0 is done (normally: has failed)
  std::shared_future<void> released = rank0_failed.get_future().share();
  btadapter::testing::run_ranks(
      2,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        train::ValidationHook hook = [&, rank](VideoTextModelImpl&, dist::ProcessGroup&, int64_t) {
          if (rank == 1) released.wait();
          return train::ValidationScores{};
        };
        std::ostringstream log;
        auto run = [&] {
          train::Trainer(config, train::TrainerOptions().group(group).validation(hook).log(&log)).run();
        };
        if (rank == 0) {
          expect_error(run, {"[rank 0/2]", "rank 1: 'step 1 validation'"});
          rank0_failed.set_value();  // also when it did not fail: rank 1 must not hang
        } else {
          error_of(run);  // rank 1 fails too, by whatever the collective reports; rank 0's message is the test
        }
      },
      dist::ProcessGroupOptions().timeout(std::chrono::seconds(2)));
}

TEST(BtPretrain, MissingClipAndDataAreOneClearMessage) {
  const auto result = run_command(tool_path("bt_pretrain").string() + " --config " +
                                  (source_dir() / "configs/webvid.yaml").string() + " 2>&1");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.output.rfind("bt_pretrain: cannot start training: model.clip is not set", 0), 0u) << result.output;
  EXPECT_NE(result.output.find("data.annotations is not set"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("data.video_root is not set"), std::string::npos) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;

  TempDir empty;
  const auto missing = run_command(tool_path("bt_pretrain").string() + " --config " +
                                   (source_dir() / "configs/webvid.yaml").string() +
                                   " --set model.clip=/no/such/clip --set data.annotations=" +
                                   (empty / "train.csv").string() + " --set data.video_root=" +
                                   (empty / "videos").string() + " 2>&1");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output, "bt_pretrain: cannot start training: model.clip: no such file or folder '/no/such/clip'; "
                            "data.annotations: no such file or folder '" + (empty / "train.csv").string() +
                            "'; data.video_root: no such folder '" + (empty / "videos").string() + "'\n");
}
