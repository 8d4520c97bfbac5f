// bt_instruct: video instruction tuning of the BT-Adapter video LLM (branch + projector trainable, LLaMA
// frozen) from a YAML config (reference recipe: configs/videochatgpt.yaml), on one process or many
// (torchrun / SLURM / scripts/launch_local.sh environment). Writes adapter.safetensors and
// mm_projector.safetensors, which bt_chat loads with --adapter / --projector.
#include "btadapter/train/instruct_trainer.h"
#include "btadapter/train/train_config.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Instruction-tune a BT-Adapter video LLM (reference recipe: configs/videochatgpt.yaml)"};
  std::string config_path, output_dir;
  std::vector<std::string> overrides;
  bool resume = false;
  app.add_option("--config", config_path, "training config (YAML; the instruct.* keys, see --help-config of bt_pretrain)");
  app.add_option("--set", overrides, "override one key, e.g. --set optim.lr=1e-5 (repeatable, applied in order)");
  app.add_flag("--resume", resume, "continue from the newest checkpoint in run.output_dir; fail if there is none");
  app.add_option("--output", output_dir, "shorthand for --set run.output_dir=DIR");
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_instruct", [&] {
    if (config_path.empty()) throw std::invalid_argument("--config is required (e.g. --config configs/videochatgpt.yaml)");
    if (!output_dir.empty()) overrides.push_back("run.output_dir=" + output_dir);
    const auto config = btadapter::train::load_train_config(config_path, overrides);
    const auto summary = btadapter::train::run_instruct_training(
        config, btadapter::train::InstructTrainerOptions().require_resume(resume));
    const nlohmann::ordered_json result{{"steps", summary.steps},
                                        {"start_step", summary.start_step},
                                        {"loss", summary.last.loss},
                                        {"samples", summary.data.usable},
                                        {"truncated", summary.data.truncated},
                                        {"bad_videos", summary.bad_videos + summary.data.missing_features},
                                        {"adapter", summary.adapter_file},
                                        {"projector", summary.projector_file},
                                        {"checkpoint", summary.checkpoint}};
    std::cout << result.dump() << std::endl;
    return 0;
  });
}
