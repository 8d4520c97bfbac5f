// bt_eval_recognition: zero-shot action recognition (top-1/top-5 and mean-class accuracy) of a model on
// a K400 / UCF101 / HMDB51 style video list with a class-name file and optional prompt templates.
#include "btadapter/btadapter.h"
#include "btadapter/eval/dataset_presets.h"
#include "btadapter/eval/metrics_table.h"
#include "btadapter/eval/recognition_eval.h"
#include "tool_support.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

namespace {

using namespace btadapter;

struct Args {
  tools::ModelCli model;
  std::string dataset = "k400", annotations, root, format, class_names, output, embeddings;
  std::vector<std::string> templates;
  bool humanize = false, skip_bad = false, quiet = false;
  int64_t frames = 0, short_side = 0;
  int64_t batch_size = VideoOptions().batch_size(), workers = VideoOptions().num_workers();
  std::vector<int64_t> top_ks = eval::RecognitionMetricsOptions().top_ks();
  std::string ties = eval::to_string(eval::RecognitionMetricsOptions().ties());
};

int run(const Args& a) {
  const eval::DatasetPreset& preset = eval::dataset_preset(a.dataset);
  TORCH_CHECK(preset.task == eval::EvalTask::kRecognition, "dataset preset '", a.dataset,
              "' is for retrieval (bt_eval_retrieval)");
  a.model.configure_runtime();
  LoadOptions load = a.model.load_options();
  if (load.truncate().empty()) load.truncate(preset.truncate);
  auto log = [&](const std::string& line) {
    if (!a.quiet) std::cerr << line << "\n";
  };
  const auto model = Model::load(a.model.model, load);
  log("model: " + model->description());

  VideoOptions video = eval::preset_video_options(preset, model->config().vision.image_size);
  if (a.frames > 0) video.num_frames(a.frames);
  if (a.short_side > 0) video.short_side(a.short_side);
  video.batch_size(a.batch_size).num_workers(a.workers);
  const tools::ProgressLine progress("encoded videos");
  auto options = eval::RecognitionEvalOptions(a.annotations, a.format.empty() ? preset.format : a.format,
                                              a.class_names)
                     .root(a.root)
                     .dataset(preset.name)
                     .templates(a.templates)
                     .humanize_names(a.humanize)
                     .video(video)
                     .skip_bad_videos(a.skip_bad)
                     .metrics(eval::RecognitionMetricsOptions().top_ks(a.top_ks).ties(eval::tie_mode_from_string(a.ties)))
                     .embeddings_cache(a.embeddings)
                     .log(log);
  if (!a.quiet) options.progress(progress);
  const eval::RecognitionEvalResult result = eval::run_recognition_eval(*model, options);

  std::cout << eval::format_recognition_table(result.metrics, preset.title);
  std::printf("videos %zu, classes %zu, prompts %zu, skipped videos %zu; %s; %.1f s (encoding %.1f s, %.1f s of it "
              "waiting for decoded videos)\n",
              result.videos.size(), result.class_names.size(), result.prompts.size(), result.skipped_videos.size(),
              result.from_cache ? "embeddings from cache" : "encoded", result.total_seconds, result.encode_seconds,
              result.decode_wait_seconds);
  if (!a.output.empty()) eval::write_results_json(eval::recognition_eval_results(*model, options, result), a.output);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Zero-shot action recognition: top-1/top-5 and mean-class accuracy from class names"};
  Args a;
  a.model.add_to(app);
  std::string presets;
  for (const auto& name : eval::dataset_preset_names(eval::EvalTask::kRecognition)) presets += " " + name;
  app.add_option("-d,--dataset", a.dataset, "preset (list format, frames, text length, resize):" + presets)
      ->capture_default_str();
  app.add_option("-a,--annotations", a.annotations, "video list (e.g. kinetics400_val_list_videos.txt)")->required();
  app.add_option("-c,--class-names", a.class_names, "class names, one per line (line i = label i)")->required();
  app.add_option("-r,--root", a.root, "folder the video names are relative to");
  app.add_option("--format", a.format, "list format (overrides the preset's)");
  app.add_option("-t,--template", a.templates,
                 "prompt template with {} for the class name, e.g. \"a video of a person {}.\" (repeatable: "
                 "embeddings are averaged); default: the raw names, as the official code");
  app.add_flag("--humanize-names", a.humanize, "turn CamelCase / snake_case class names into lower-case words");
  app.add_option("--frames", a.frames, "frames per video (overrides the preset's)");
  app.add_option("--short-side", a.short_side, "resize short side before the centre crop (overrides the preset's)");
  app.add_option("--batch-size", a.batch_size, "videos per forward pass")->capture_default_str();
  app.add_option("--workers", a.workers, "decoding threads")->capture_default_str();
  app.add_option("--top-k", a.top_ks, "top-K accuracies to report")->capture_default_str();
  app.add_option("--ties", a.ties, "exact-tie handling: pessimistic | optimistic")->capture_default_str();
  app.add_flag("--skip-bad-videos", a.skip_bad, "leave unreadable videos out and report them");
  app.add_option("-o,--output", a.output, "results JSON file");
  app.add_option("--embeddings", a.embeddings, "embedding cache: read when it matches, else written");
  app.add_flag("-q,--quiet", a.quiet, "no progress or notes on stderr");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::cerr << "bt_eval_recognition: " << tools::error_message(e) << std::endl;
    return 1;
  }
}
