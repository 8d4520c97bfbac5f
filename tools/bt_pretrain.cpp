// bt_pretrain: pretrain the BT-Adapter on a frozen CLIP (or train a CLIP, with model.train_clip) from a
// YAML config, on one process or many (torchrun / SLURM / scripts/launch_local.sh environment).
#include "btadapter/train/train_config.h"
#include "btadapter/train/trainer.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Pretrain a BT-Adapter video-text model (reference recipe: configs/webvid.yaml)"};
  std::string config_path, output_dir;
  std::vector<std::string> overrides;
  bool resume = false, help_config = false;
  app.add_option("--config", config_path, "training config (YAML)");
  app.add_option("--set", overrides, "override one key, e.g. --set optim.lr=1e-5 (repeatable, applied in order)");
  app.add_flag("--resume", resume, "continue from the newest checkpoint in run.output_dir; fail if there is none");
  app.add_option("--output", output_dir, "shorthand for --set run.output_dir=DIR");
  app.add_flag("--help-config", help_config, "print every config key (Markdown table) and exit");
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_pretrain", [&] {
    if (help_config) {
      std::cout << btadapter::train::config_reference_markdown();
      return 0;
    }
    if (config_path.empty()) throw std::invalid_argument("--config is required (e.g. --config configs/webvid.yaml)");
    if (!output_dir.empty()) overrides.push_back("run.output_dir=" + output_dir);
    auto config = btadapter::train::load_train_config(config_path, overrides);
    btadapter::train::Trainer trainer(config, btadapter::train::TrainerOptions().require_resume(resume));
    const auto summary = trainer.run();
    const nlohmann::ordered_json result{{"steps", summary.steps},          {"loss", summary.last.loss},
                                        {"model", summary.model_file},     {"checkpoint", summary.checkpoint},
                                        {"seconds", summary.seconds},      {"data_wait_s", summary.data_wait_s},
                                        {"max_data_wait_s", summary.max_data_wait_s}};
    std::cout << result.dump() << std::endl;
    return 0;
  });
}
