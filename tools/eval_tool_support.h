#pragma once
// Shared by the evaluation tools (bt_eval_retrieval, bt_eval_recognition): the options they have in
// common (model, dataset preset, annotation file, decoding, outputs) and the set-up before a run
// (preset check, CPU runtime, model, video options).

#include "btadapter/eval/dataset_presets.h"
#include "tool_support.h"

#include <functional>
#include <memory>

namespace btadapter::tools {

/// The wording that differs between the tools' shared options.
struct EvalCliHelp {
  std::string dataset;      ///< what a preset sets, e.g. "format, frames, text length, resize"
  std::string annotations;  ///< the annotation file, e.g. "annotation file (e.g. test_JSFUSION.json)"
  std::string format;       ///< e.g. "annotation format"
  std::string skip_bad;     ///< what --skip-bad-videos leaves out
};

struct EvalCli {
  ModelCli model;
  std::string dataset, annotations, root, format, output, embeddings;
  int64_t frames = 0, short_side = 0;
  int64_t batch_size = VideoOptions().batch_size(), workers = VideoOptions().num_workers();
  bool skip_bad = false, quiet = false;

  /// Adds the shared options; --dataset offers the presets of `task` and defaults to `dataset`.
  void add_to(CLI::App& app, eval::EvalTask task, const EvalCliHelp& help) {
    model.add_to(app);
    std::string presets;
    for (const auto& name : eval::dataset_preset_names(task)) presets += " " + name;
    app.add_option("-d,--dataset", dataset, "preset (" + help.dataset + "):" + presets)->capture_default_str();
    app.add_option("-a,--annotations", annotations, help.annotations)->required();
    app.add_option("-r,--root", root, "folder the video names are relative to");
    app.add_option("--format", format, help.format + " (overrides the preset's)");
    app.add_option("--frames", frames, "frames per video (overrides the preset's)");
    app.add_option("--short-side", short_side, "resize short side before the centre crop (overrides the preset's)");
    app.add_option("--batch-size", batch_size, "videos per forward pass")->capture_default_str();
    app.add_option("--workers", workers, "decoding threads")->capture_default_str();
    app.add_flag("--skip-bad-videos", skip_bad, help.skip_bad);
    app.add_option("-o,--output", output, "results JSON file");
    app.add_option("--embeddings", embeddings, "embedding cache: read when it matches, else written");
    app.add_flag("-q,--quiet", quiet, "no progress or notes on stderr");
  }

  /// Notes on stderr unless --quiet.
  std::function<void(const std::string&)> log() const {
    return [quiet = quiet](const std::string& line) {
      if (!quiet) std::cerr << line << "\n";
    };
  }

  /// The annotation format: --format, else the preset's.
  std::string format_or(const eval::DatasetPreset& preset) const { return format.empty() ? preset.format : format; }
};

/// What a run starts from.
struct EvalSetup {
  const eval::DatasetPreset& preset;
  std::unique_ptr<Model> model;
  VideoOptions video;
};

/// Checks that the preset is one of `task`'s, sets up the CPU (runtime/cpu_runtime.h), loads the model
/// (text truncation from --truncate, else the preset's) and derives the video options (the preset's,
/// with --frames, --short-side, --batch-size and --workers on top).
inline EvalSetup set_up_eval(const EvalCli& a, eval::EvalTask task) {
  const eval::DatasetPreset& preset = eval::dataset_preset(a.dataset);
  const bool retrieval = preset.task == eval::EvalTask::kRetrieval;
  TORCH_CHECK(preset.task == task, "dataset preset '", a.dataset, "' is for ",
              retrieval ? "retrieval (bt_eval_retrieval)" : "recognition (bt_eval_recognition)");
  a.model.configure_runtime();
  LoadOptions load = a.model.load_options();
  if (load.truncate().empty()) load.truncate(preset.truncate);
  auto model = Model::load(a.model.model, load);
  a.log()("model: " + model->description());
  VideoOptions video = eval::preset_video_options(preset, model->config().vision.image_size);
  if (a.frames > 0) video.num_frames(a.frames);
  if (a.short_side > 0) video.short_side(a.short_side);
  video.batch_size(a.batch_size).num_workers(a.workers);
  return {preset, std::move(model), video};
}

}  // namespace btadapter::tools
