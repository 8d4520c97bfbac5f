// bt_eval_recognition: zero-shot action recognition (top-1/top-5 and mean-class accuracy) of a model on
// a K400 / UCF101 / HMDB51 style video list with a class-name file and optional prompt templates.
#include "btadapter/btadapter.h"
#include "btadapter/eval/metrics_table.h"
#include "btadapter/eval/recognition_eval.h"
#include "eval_tool_support.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

namespace {

using namespace btadapter;

struct Args : tools::EvalCli {
  Args() { dataset = "k400"; }
  std::string class_names;
  std::vector<std::string> templates;
  bool humanize = false;
  std::vector<int64_t> top_ks = eval::RecognitionMetricsOptions().top_ks();
  std::string ties = enum_name(eval::RecognitionMetricsOptions().ties());
};

int run(const Args& a) {
  const tools::EvalSetup setup = tools::set_up_eval(a, eval::EvalTask::kRecognition);
  const eval::DatasetPreset& preset = setup.preset;
  Model& model = *setup.model;
  const tools::ProgressLine progress("encoded videos");
  auto options = eval::RecognitionEvalOptions(a.annotations, a.format_or(preset), a.class_names)
                     .root(a.root)
                     .dataset(preset.name)
                     .templates(a.templates)
                     .humanize_names(a.humanize)
                     .video(setup.video)
                     .skip_bad_videos(a.skip_bad)
                     .metrics(eval::RecognitionMetricsOptions().top_ks(a.top_ks).ties(enum_from_name<eval::TieMode>(a.ties)))
                     .embeddings_cache(a.embeddings)
                     .log(a.log());
  if (!a.quiet) options.progress(progress);
  const eval::RecognitionEvalResult result = eval::run_recognition_eval(model, options);

  std::cout << eval::format_recognition_table(result.metrics, preset.title);
  std::printf("videos %zu, classes %zu, prompts %zu, skipped videos %zu; %s; %.1f s (encoding %.1f s, %.1f s of it "
              "waiting for decoded videos)\n",
              result.videos.size(), result.class_names.size(), result.prompts.size(), result.skipped_videos.size(),
              result.from_cache ? "embeddings from cache" : "encoded", result.total_seconds, result.encode_seconds,
              result.decode_wait_seconds);
  if (!a.output.empty()) eval::write_results_json(eval::recognition_eval_results(model, options, result), a.output);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Zero-shot action recognition: top-1/top-5 and mean-class accuracy from class names"};
  Args a;
  a.add_to(app, eval::EvalTask::kRecognition,
           {"list format, frames, text length, resize", "video list (e.g. kinetics400_val_list_videos.txt)",
            "list format", "leave unreadable videos out and report them"});
  app.add_option("-c,--class-names", a.class_names, "class names, one per line (line i = label i)")->required();
  app.add_option("-t,--template", a.templates,
                 "prompt template with {} for the class name, e.g. \"a video of a person {}.\" (repeatable: "
                 "embeddings are averaged); default: the raw names, as the official code");
  app.add_flag("--humanize-names", a.humanize, "turn CamelCase / snake_case class names into lower-case words");
  app.add_option("--top-k", a.top_ks, "top-K accuracies to report")->capture_default_str();
  app.add_option("--ties", a.ties, "exact-tie handling: " + enum_choices<eval::TieMode>())->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_eval_recognition", [&] { return run(a); });
}
