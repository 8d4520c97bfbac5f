// bt_eval_retrieval: zero-shot text-video retrieval (t2v and v2t R@K, MdR, MnR) of a model on an
// annotation file, with the official test settings of the chosen dataset preset.
#include "btadapter/btadapter.h"
#include "btadapter/eval/dataset_presets.h"
#include "btadapter/eval/direction_eval.h"
#include "btadapter/eval/metrics_table.h"
#include "btadapter/eval/retrieval_eval.h"
#include "tool_support.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

namespace {

using namespace btadapter;

struct Args {
  tools::ModelCli model;
  std::string dataset = "msrvtt", annotations, root, format, output, similarity, embeddings, html, direction;
  int64_t frames = 0, short_side = 0, html_queries = eval::HtmlReportOptions().num_queries();
  int64_t batch_size = VideoOptions().batch_size(), workers = VideoOptions().num_workers();
  bool skip_bad = false, direction_files = false, official = false, dsl = false, no_v2t = false, quiet = false;
  std::string ties = eval::to_string(eval::RetrievalMetricsOptions().ties());
  double dsl_temperature = eval::RetrievalMetricsOptions().dsl_temperature();
};

int run(const Args& a) {
  const eval::DatasetPreset& preset = eval::dataset_preset(a.dataset);
  TORCH_CHECK(preset.task == eval::EvalTask::kRetrieval, "dataset preset '", a.dataset,
              "' is for recognition (bt_eval_recognition)");
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
  auto metrics = eval::RetrievalMetricsOptions()
                     .ties(eval::tie_mode_from_string(a.ties))
                     .official_compat(a.official)
                     .video_to_text(!a.no_v2t && !a.official)
                     .dual_softmax(a.dsl)
                     .dsl_temperature(a.dsl_temperature);
  const tools::ProgressLine progress("encoded videos");
  auto options = eval::RetrievalEvalOptions(a.annotations, a.format.empty() ? preset.format : a.format)
                     .root(a.root)
                     .dataset(preset.name)
                     .video(video)
                     .skip_bad_videos(a.skip_bad)
                     .metrics(metrics)
                     .embeddings_cache(a.embeddings)
                     .log(log);
  if (!a.quiet) options.progress(progress);
  const eval::RetrievalEvalResult result = eval::run_retrieval_eval(*model, options);

  std::cout << eval::format_retrieval_table(result.metrics, preset.title);
  std::printf("texts %zu, videos %zu, skipped videos %zu (texts dropped %lld); %s; %.1f s (encoding %.1f s, "
              "%.1f s of it waiting for decoded videos)\n",
              result.texts.size(), result.videos.size(), result.skipped_videos.size(),
              static_cast<long long>(result.texts_dropped), result.from_cache ? "embeddings from cache" : "encoded",
              result.total_seconds, result.encode_seconds, result.decode_wait_seconds);

  eval::EvalResults record = eval::retrieval_eval_results(*model, options, result);
  if (!a.direction.empty()) {
    const auto direction = eval::run_direction_eval(
        *model, a.direction,
        eval::DirectionEvalOptions().root(a.root).video(video).reversed_from_files(a.direction_files));
    std::printf("direction accuracy %.1f%% (%lld texts, %lld ties)\n", direction.accuracy,
                static_cast<long long>(direction.texts), static_cast<long long>(direction.ties));
    record.sections_json = "{\"direction\": " + eval::direction_metrics_json(direction) + "}";
  }
  if (!a.output.empty()) eval::write_results_json(record, a.output);
  if (!a.similarity.empty()) eval::write_similarity(a.similarity, result, preset.name);
  if (!a.html.empty()) {
    eval::write_retrieval_report(a.html, result,
                                 eval::HtmlReportOptions().num_queries(a.html_queries).title(preset.title + " (" +
                                                                                            result.metrics.protocol() + ")"));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Zero-shot text-video retrieval: t2v/v2t R@1/5/10, MdR, MnR with the official test settings"};
  Args a;
  a.model.add_to(app);
  std::string presets;
  for (const auto& name : eval::dataset_preset_names(eval::EvalTask::kRetrieval)) presets += " " + name;
  app.add_option("-d,--dataset", a.dataset, "preset (format, frames, text length, resize):" + presets)
      ->capture_default_str();
  app.add_option("-a,--annotations", a.annotations, "annotation file (e.g. test_JSFUSION.json)")->required();
  app.add_option("-r,--root", a.root, "folder the video names are relative to");
  app.add_option("--format", a.format, "annotation format (overrides the preset's)");
  app.add_option("--frames", a.frames, "frames per video (overrides the preset's)");
  app.add_option("--short-side", a.short_side, "resize short side before the centre crop (overrides the preset's)");
  app.add_option("--batch-size", a.batch_size, "videos per forward pass")->capture_default_str();
  app.add_option("--workers", a.workers, "decoding threads")->capture_default_str();
  app.add_flag("--skip-bad-videos", a.skip_bad, "leave unreadable videos (and their texts) out and report them");
  app.add_option("--ties", a.ties, "exact-tie handling: pessimistic | optimistic")->capture_default_str();
  app.add_flag("--official", a.official, "reproduce the official t2v-only metric (ties inflate its count)");
  app.add_flag("--dsl", a.dsl, "dual-softmax re-ranking (off by default, labelled in the output)");
  app.add_option("--dsl-temperature", a.dsl_temperature, "dual-softmax temperature")->capture_default_str();
  app.add_flag("--no-v2t", a.no_v2t, "skip video-to-text");
  app.add_option("-o,--output", a.output, "results JSON file");
  app.add_option("--save-similarity", a.similarity, "similarity matrix as safetensors");
  app.add_option("--embeddings", a.embeddings, "embedding cache: read when it matches, else written");
  app.add_option("--html", a.html, "HTML report with keyframes of the top-5 videos of sampled queries");
  app.add_option("--html-queries", a.html_queries, "queries shown in the HTML report")->capture_default_str();
  app.add_option("--direction", a.direction, "time-reversed pairs file (bt_make_synthetic's direction.json): "
                                             "report direction accuracy");
  app.add_flag("--direction-from-files", a.direction_files,
               "encode each reversed twin from its own file (default: the forward clip played backwards)");
  app.add_flag("-q,--quiet", a.quiet, "no progress or notes on stderr");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::cerr << "bt_eval_retrieval: " << tools::error_message(e) << std::endl;
    return 1;
  }
}
