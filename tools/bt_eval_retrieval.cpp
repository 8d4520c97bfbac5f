// bt_eval_retrieval: zero-shot text-video retrieval (t2v and v2t R@K, MdR, MnR) of a model on an
// annotation file, with the official test settings of the chosen dataset preset.
#include "btadapter/btadapter.h"
#include "btadapter/eval/direction_eval.h"
#include "btadapter/eval/metrics_table.h"
#include "btadapter/eval/retrieval_eval.h"
#include "eval_tool_support.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

namespace {

using namespace btadapter;

struct Args : tools::EvalCli {
  Args() { dataset = "msrvtt"; }
  std::string similarity, html, direction;
  int64_t html_queries = eval::HtmlReportOptions().num_queries();
  bool direction_files = false, official = false, dsl = false, no_v2t = false;
  std::string ties = enum_name(eval::RetrievalMetricsOptions().ties());
  double dsl_temperature = eval::RetrievalMetricsOptions().dsl_temperature();
};

int run(const Args& a) {
  const tools::EvalSetup setup = tools::set_up_eval(a, eval::EvalTask::kRetrieval);
  const eval::DatasetPreset& preset = setup.preset;
  Model& model = *setup.model;
  auto metrics = eval::RetrievalMetricsOptions()
                     .ties(enum_from_name<eval::TieMode>(a.ties))
                     .official_compat(a.official)
                     .video_to_text(!a.no_v2t && !a.official)
                     .dual_softmax(a.dsl)
                     .dsl_temperature(a.dsl_temperature);
  const tools::ProgressLine progress("encoded videos");
  auto options = eval::RetrievalEvalOptions(a.annotations, a.format_or(preset))
                     .root(a.root)
                     .dataset(preset.name)
                     .video(setup.video)
                     .skip_bad_videos(a.skip_bad)
                     .metrics(metrics)
                     .embeddings_cache(a.embeddings)
                     .log(a.log());
  if (!a.quiet) options.progress(progress);
  const eval::RetrievalEvalResult result = eval::run_retrieval_eval(model, options);

  std::cout << eval::format_retrieval_table(result.metrics, preset.title);
  std::printf("texts %zu, videos %zu, skipped videos %zu (texts dropped %lld); %s; %.1f s (encoding %.1f s, "
              "%.1f s of it waiting for decoded videos)\n",
              result.texts.size(), result.videos.size(), result.skipped_videos.size(),
              static_cast<long long>(result.texts_dropped), result.from_cache ? "embeddings from cache" : "encoded",
              result.total_seconds, result.encode_seconds, result.decode_wait_seconds);

  eval::EvalResults record = eval::retrieval_eval_results(model, options, result);
  if (!a.direction.empty()) {
    const auto direction = eval::run_direction_eval(
        model, a.direction,
        eval::DirectionEvalOptions().root(a.root).video(setup.video).reversed_from_files(a.direction_files));
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
  a.add_to(app, eval::EvalTask::kRetrieval,
           {"format, frames, text length, resize", "annotation file (e.g. test_JSFUSION.json)", "annotation format",
            "leave unreadable videos (and their texts) out and report them"});
  app.add_option("--ties", a.ties, "exact-tie handling: " + enum_choices<eval::TieMode>())->capture_default_str();
  app.add_flag("--official", a.official, "reproduce the official t2v-only metric (ties inflate its count)");
  app.add_flag("--dsl", a.dsl, "dual-softmax re-ranking (off by default, labelled in the output)");
  app.add_option("--dsl-temperature", a.dsl_temperature, "dual-softmax temperature")->capture_default_str();
  app.add_flag("--no-v2t", a.no_v2t, "skip video-to-text");
  app.add_option("--save-similarity", a.similarity, "similarity matrix as safetensors");
  app.add_option("--html", a.html, "HTML report with keyframes of the top-5 videos of sampled queries");
  app.add_option("--html-queries", a.html_queries, "queries shown in the HTML report")->capture_default_str();
  app.add_option("--direction", a.direction, "time-reversed pairs file (bt_make_synthetic's direction.json): "
                                             "report direction accuracy");
  app.add_flag("--direction-from-files", a.direction_files,
               "encode each reversed twin from its own file (default: the forward clip played backwards)");
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_eval_retrieval", [&] { return run(a); });
}
