#include "btadapter/eval/retrieval_eval.h"

#include "btadapter/data/annotations.h"
#include "btadapter/data/frame_sampling.h"
#include "btadapter/data/video_reader.h"
#include "btadapter/metrics/similarity.h"
#include "eval_embeddings.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <map>

namespace btadapter::eval {
namespace {

using nlohmann::json;

/// Texts and distinct videos of an annotation file, with the ground truth between them.
struct RetrievalSet {
  std::vector<std::string> texts;
  std::vector<int64_t> text_video;  // index into videos
  std::vector<std::string> videos, video_ids;
};

RetrievalSet read_retrieval_set(const RetrievalEvalOptions& options) {
  const data::Annotations annotations =
      data::read_annotations(options.annotations(), options.format(), data::AnnotationOptions().root(options.root()));
  TORCH_CHECK(!annotations.samples.empty(), "annotation file '", options.annotations(), "' holds no sample");
  RetrievalSet set;
  std::map<std::string, int64_t> video_index;
  for (const auto& sample : annotations.samples) {
    TORCH_CHECK(!sample.caption.empty(), "annotation file '", options.annotations(), "' row ", sample.row,
                ": expected a caption for retrieval, got none (format '", options.format(), "')");
    auto [it, added] = video_index.emplace(sample.video, static_cast<int64_t>(set.videos.size()));
    if (added) {
      set.videos.push_back(sample.video);
      set.video_ids.push_back(sample.id);
    }
    set.texts.push_back(sample.caption);
    set.text_video.push_back(it->second);
  }
  return set;
}

json metrics_options_json(const RetrievalMetricsOptions& m) {
  return {{"ties", to_string(m.ties())},           {"video_to_text", m.video_to_text()},
          {"dual_softmax", m.dual_softmax()},      {"dsl_temperature", m.dsl_temperature()},
          {"official_compat", m.official_compat()}, {"recall_ks", m.recall_ks()}};
}

detail::EmbeddingInputs embedding_inputs(const RetrievalEvalOptions& options, const RetrievalSet& set) {
  detail::EmbeddingInputs in;
  in.kind = "retrieval";
  in.annotations = options.annotations();
  in.format = options.format();
  in.root = options.root();
  in.videos = set.videos;
  in.texts = set.texts;
  in.video = options.video();
  in.skip_bad_videos = options.skip_bad_videos();
  in.cache = options.embeddings_cache();
  in.progress = options.progress();
  in.log = options.log();
  return in;
}

}  // namespace

RetrievalEvalResult run_retrieval_eval(const Model& model, const RetrievalEvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const RetrievalSet set = read_retrieval_set(options);
  const detail::Embeddings embedded = detail::embed_for_eval(model, embedding_inputs(options, set));

  RetrievalEvalResult r;
  r.from_cache = embedded.from_cache;
  r.model_sha256 = embedded.model_sha256;
  r.annotations_sha256 = embedded.annotations_sha256;
  r.encode_seconds = embedded.encode_seconds;
  r.decode_wait_seconds = embedded.decode_wait_seconds;
  r.skipped_videos = embedded.skipped;

  // Readable videos keep their order; texts of skipped videos go with them.
  std::vector<int64_t> new_index(set.videos.size(), -1), kept_videos;
  for (size_t v = 0; v < set.videos.size(); ++v) {
    if (!embedded.ok[v]) continue;
    new_index[v] = static_cast<int64_t>(kept_videos.size());
    kept_videos.push_back(static_cast<int64_t>(v));
    r.videos.push_back(set.videos[v]);
    r.video_ids.push_back(set.video_ids[v]);
  }
  TORCH_CHECK(!kept_videos.empty(), "no video of '", options.annotations(), "' could be read (",
              r.skipped_videos.size(), " skipped)");
  std::vector<int64_t> kept_texts, ground_truth;
  for (size_t t = 0; t < set.texts.size(); ++t) {
    const int64_t v = new_index[set.text_video[t]];
    if (v < 0) {
      ++r.texts_dropped;
      continue;
    }
    kept_texts.push_back(static_cast<int64_t>(t));
    ground_truth.push_back(v);
    r.texts.push_back(set.texts[t]);
  }
  r.video_embeddings = embedded.videos.index_select(0, torch::tensor(kept_videos, torch::kLong));
  r.text_embeddings = embedded.texts.index_select(0, torch::tensor(kept_texts, torch::kLong));
  r.text_to_video = torch::tensor(ground_truth, torch::kLong);
  r.similarity = cosine_similarity_matrix(r.text_embeddings, r.video_embeddings);
  r.metrics = compute_retrieval_metrics(r.similarity, r.text_to_video, options.metrics());
  r.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

EvalResults retrieval_eval_results(const Model& model, const RetrievalEvalOptions& options,
                                   const RetrievalEvalResult& result) {
  const json extra{{"metrics", metrics_options_json(options.metrics())}, {"texts_dropped", result.texts_dropped}};
  const detail::EmbeddingInputs inputs = embedding_inputs(options, RetrievalSet{});
  EvalResults out = detail::results_record(model, options.dataset(), inputs, result, extra);
  out.retrieval = result.metrics;
  return out;
}

void write_similarity(const std::string& path, const RetrievalEvalResult& result, const std::string& dataset) {
  io::write_safetensors(path, {{"similarity", result.similarity}, {"text_to_video", result.text_to_video}},
                        {{"format", "btadapter.similarity"},
                         {"dataset", dataset},
                         {"model_sha256", result.model_sha256},
                         {"texts", json(result.texts).dump()},
                         {"videos", json(result.videos).dump()}});
}

void write_retrieval_report(const std::string& path, const RetrievalEvalResult& result,
                            const HtmlReportOptions& options, int64_t keyframes) {
  TORCH_CHECK(keyframes >= 1, "write_retrieval_report: expected keyframes >= 1, got ", keyframes);
  RetrievalReportInput input;
  input.similarity = result.similarity;
  input.text_to_video = result.text_to_video;
  input.texts = result.texts;
  input.video_names = result.video_ids;
  input.frames = [&result, keyframes](int64_t v) {
    data::VideoReader reader(result.videos.at(v));
    return reader.read_sampled([keyframes](int64_t n) { return data::uniform_sample_test(n, keyframes); }).frames;
  };
  write_html_report(path, input, options);
}

}  // namespace btadapter::eval
