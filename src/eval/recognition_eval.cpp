#include "btadapter/eval/recognition_eval.h"

#include "btadapter/data/annotations.h"
#include "btadapter/io/sha256.h"
#include "btadapter/metrics/similarity.h"
#include "eval_embeddings.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cctype>
#include <chrono>

namespace btadapter::eval {
namespace {

using nlohmann::json;

data::Annotations read_recognition_list(const RecognitionEvalOptions& options) {
  TORCH_CHECK(!options.class_names().empty(), "zero-shot recognition needs a class-name file");
  data::Annotations annotations = data::read_annotations(
      options.annotations(), options.format(),
      data::AnnotationOptions().root(options.root()).class_names(options.class_names()));
  TORCH_CHECK(!annotations.samples.empty(), "annotation file '", options.annotations(), "' holds no sample");
  TORCH_CHECK(!annotations.class_names.empty(), "class-name file '", options.class_names(), "' holds no name");
  for (const auto& sample : annotations.samples) {
    TORCH_CHECK(sample.label >= 0, "annotation file '", options.annotations(), "' row ", sample.row,
                ": expected a class label, got none (format '", options.format(), "')");
  }
  return annotations;
}

detail::EmbeddingInputs embedding_inputs(const RecognitionEvalOptions& options, std::vector<std::string> videos,
                                         std::vector<std::string> prompts) {
  detail::EmbeddingInputs in;
  in.kind = "recognition";
  in.annotations = options.annotations();
  in.format = options.format();
  in.root = options.root();
  in.videos = std::move(videos);
  in.texts = std::move(prompts);
  in.video = options.video();
  in.skip_bad_videos = options.skip_bad_videos();
  in.cache = options.embeddings_cache();
  in.progress = options.progress();
  in.log = options.log();
  in.extra_key["class_names_sha256"] = io::sha256_file(options.class_names());
  in.extra_key["templates"] = json(options.templates()).dump();
  in.extra_key["humanize_names"] = options.humanize_names() ? "true" : "false";
  return in;
}

/// Mean of each class's L2-normalised template embeddings, normalised again: [C, E].
torch::Tensor class_embeddings(const torch::Tensor& prompt_embeddings, int64_t classes) {
  const auto per_class = prompt_embeddings.reshape({classes, -1, prompt_embeddings.size(1)}).mean(1);
  return torch::nn::functional::normalize(per_class, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

}  // namespace

std::string humanize_class_name(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c == '_' || c == '-' || std::isspace(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    // A capital starts a word after a lower-case letter or digit ("EyeMakeup"), or before a lower-case
    // letter after another capital ("YOLOModel" -> "yolo model").
    const bool upper = std::isupper(c);
    const bool after_lower = i > 0 && (std::islower(static_cast<unsigned char>(name[i - 1])) ||
                                       std::isdigit(static_cast<unsigned char>(name[i - 1])));
    const bool acronym_end = i > 0 && std::isupper(static_cast<unsigned char>(name[i - 1])) && i + 1 < name.size() &&
                             std::islower(static_cast<unsigned char>(name[i + 1]));
    if (upper && (after_lower || acronym_end) && !out.empty() && out.back() != ' ') out += ' ';
    out += static_cast<char>(std::tolower(c));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> class_prompts(const std::vector<std::string>& class_names,
                                       const std::vector<std::string>& templates) {
  for (const auto& t : templates) {
    TORCH_CHECK(t.find("{}") != std::string::npos, "prompt template '", t, "' has no '{}' for the class name");
  }
  std::vector<std::string> prompts;
  for (const auto& name : class_names) {
    if (templates.empty()) prompts.push_back(name);
    for (const auto& t : templates) {
      std::string text = t;
      text.replace(text.find("{}"), 2, name);
      prompts.push_back(std::move(text));
    }
  }
  return prompts;
}

RecognitionEvalResult run_recognition_eval(const Model& model, const RecognitionEvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const data::Annotations annotations = read_recognition_list(options);
  RecognitionEvalResult r;
  r.class_names = annotations.class_names;
  std::vector<std::string> names = r.class_names;
  if (options.humanize_names()) {
    for (auto& name : names) name = humanize_class_name(name);
  }
  r.prompts = class_prompts(names, options.templates());
  std::vector<std::string> videos;
  for (const auto& sample : annotations.samples) videos.push_back(sample.video);

  const detail::Embeddings embedded = detail::embed_for_eval(model, embedding_inputs(options, videos, r.prompts));
  r.from_cache = embedded.from_cache;
  r.model_sha256 = embedded.model_sha256;
  r.annotations_sha256 = embedded.annotations_sha256;
  r.encode_seconds = embedded.encode_seconds;
  r.decode_wait_seconds = embedded.decode_wait_seconds;
  r.skipped_videos = embedded.skipped;

  std::vector<int64_t> kept, labels;
  for (size_t i = 0; i < videos.size(); ++i) {
    if (!embedded.ok[i]) continue;
    kept.push_back(static_cast<int64_t>(i));
    labels.push_back(annotations.samples[i].label);
    r.videos.push_back(videos[i]);
  }
  TORCH_CHECK(!kept.empty(), "no video of '", options.annotations(), "' could be read (", r.skipped_videos.size(),
              " skipped)");
  r.class_embeddings = class_embeddings(embedded.texts, static_cast<int64_t>(r.class_names.size()));
  r.labels = torch::tensor(labels, torch::kLong);
  r.scores = cosine_similarity_matrix(embedded.videos.index_select(0, torch::tensor(kept, torch::kLong)),
                                      r.class_embeddings);
  r.metrics = compute_recognition_metrics(r.scores, r.labels, options.metrics());
  r.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

EvalResults recognition_eval_results(const Model& model, const RecognitionEvalOptions& options,
                                     const RecognitionEvalResult& result) {
  const json extra{{"class_names", options.class_names()},
                   {"templates", options.templates()},
                   {"humanize_names", options.humanize_names()},
                   {"top_ks", options.metrics().top_ks()},
                   {"ties", to_string(options.metrics().ties())}};
  const detail::EmbeddingInputs inputs = embedding_inputs(options, {}, {});
  EvalResults out = detail::results_record(model, options.dataset(), inputs, result, extra);
  out.recognition = result.metrics;
  return out;
}

}  // namespace btadapter::eval
