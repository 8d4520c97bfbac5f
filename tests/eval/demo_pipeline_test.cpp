// The embedded default's tool chain (scripts/demo.sh) with its own configs and training set, a smaller
// test set and no validation passes: synthetic videos -> SentencePiece -> tiny CLIP stage -> BT-Adapter
// stage -> both evaluations -> one table and the curves. Frame mean-pooling cannot see order (every
// time-reversed pair ties, exactly 50%); the trained branch reads the direction. Smaller training sets
// stay at chance (measured: 32 videos x 2 steps, 128 or 192 videos x the demo's epochs: 50-53%; 384:
// 100%), so this runs the demo's 384 (about 70 s on 2 cores).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace {

using btadapter::testing::run_command;
using btadapter::testing::tool_path;

std::string tool(const std::string& name) { return tool_path(name).string(); }

void run_ok(const std::string& command) {
  const auto r = run_command(command);
  ASSERT_EQ(r.exit_code, 0) << command << "\n" << r.output;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(DemoPipeline, BaselineIsAtChanceAndTheBranchReadsDirection) {
  btadapter::testing::TempDir dir;
  const std::string cd = "cd " + dir.path().string() + " && OMP_NUM_THREADS=1 ";
  const std::string configs = (btadapter::testing::source_dir() / "configs").string() + "/";
  run_ok(cd + tool("bt_make_synthetic") + " --out data --train 384 --test 16 --frames 16 --size 64 --seed 0");
  run_ok(cd + tool("bt_train_tokenizer") +
         " --annotations data/train.csv --format webvid --vocab-size 256 --model-type bpe --out tokenizer/spm.model");
  const std::string no_validation = " --set eval.at_end=false";
  run_ok(cd + tool("bt_pretrain") + " --config " + configs + "demo_clip.yaml" + no_validation);
  run_ok(cd + tool("bt_pretrain") + " --config " + configs + "demo_adapter.yaml" + no_validation + " --set eval.every_steps=0");
  const std::string eval = tool("bt_eval_retrieval") +
                           " --vocab tokenizer/spm.model -d msrvtt --frames 8 --truncate openai -q"
                           " -a data/test.json -r data/test_videos --direction data/direction.json";
  run_ok(cd + eval + " -m clip/model.safetensors -o clip.json");
  run_ok(cd + eval + " -m adapter/model.safetensors -o btadapter.json");

  const auto clip = read_json((dir / "clip.json").string());
  EXPECT_EQ(clip["direction"]["accuracy"], 50.0);
  EXPECT_EQ(clip["direction"]["ties"], clip["direction"]["texts"]);
  const auto adapter = read_json((dir / "btadapter.json").string());
  // Above chance with a margin (the demo and this run measured 100: 16 wins of 16 texts).
  EXPECT_GE(adapter["direction"]["accuracy"].get<double>(), 75.0) << adapter["direction"].dump();
  EXPECT_LT(adapter["direction"]["ties"].get<int64_t>(), adapter["direction"]["texts"].get<int64_t>() / 2);

  const auto table = run_command(cd + tool("bt_compare_results") + " CLIP=clip.json BT-Adapter=btadapter.json");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("CLIP"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("BT-Adapter"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("50.0"), std::string::npos) << table.output;
  run_ok(cd + tool("bt_plot_log") + " --log adapter/train_log.jsonl --panel losses:vtc,mbca,mbta --out curves.png");
  EXPECT_TRUE(std::filesystem::exists(dir / "curves.png"));
}

}  // namespace
