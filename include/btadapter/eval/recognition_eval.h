#pragma once
/// Zero-shot action recognition: every class name becomes one text (or several, through prompt
/// templates), every video is scored against all classes, and the top-K and mean-class accuracies are
/// computed (metrics/recognition_metrics.h). bt_eval_recognition is the CLI.
///
///   const DatasetPreset& k400 = dataset_preset("k400");
///   auto model = Model::load(path, LoadOptions().truncate(k400.truncate));
///   auto options = RecognitionEvalOptions("kinetics400_val_list_videos.txt", k400.format, "k400_classes.txt")
///                      .root("k400/val").video(preset_video_options(k400, model->config().vision.image_size))
///                      .templates({"a video of a person {}."});
///   RecognitionEvalResult r = run_recognition_eval(*model, options);
///
/// Class texts. The official code tokenizes the raw class names (no template; CamelCase and underscores
/// kept). With `templates` each name is put into every template ("{}" marks the place); the class
/// embedding is then the mean of its L2-normalised template embeddings, normalised again (CLIP's prompt
/// ensembling). `humanize_names` first turns "ApplyEyeMakeup" and "brush_hair" into "apply eye makeup"
/// and "brush hair".
///
/// Videos: the list's samples in order (labels 0-based, data/annotations.h); with skip_bad_videos an
/// unreadable video is left out of the metrics and counted. Embedding cache as in retrieval_eval.h.
///
/// Thread safety: free functions; the model may be shared.

#include "btadapter/api/video_encoding.h"
#include "btadapter/btadapter.h"
#include "btadapter/eval/dataset_presets.h"
#include "btadapter/eval/results_json.h"
#include "btadapter/metrics/recognition_metrics.h"

#include <torch/arg.h>

#include <functional>
#include <string>
#include <vector>

namespace btadapter::eval {

struct RecognitionEvalOptions {
  RecognitionEvalOptions(std::string annotations, std::string format, std::string class_names)
      : annotations_(std::move(annotations)), format_(std::move(format)), class_names_(std::move(class_names)) {}
  /// Video list (required), e.g. kinetics400_val_list_videos.txt.
  TORCH_ARG(std::string, annotations);
  /// Its format (required): "k400", "ucf101", "hmdb51" or a generic one with labels.
  TORCH_ARG(std::string, format);
  /// Class-name file, one per line, line i = label i (required).
  TORCH_ARG(std::string, class_names);
  /// Folder the video names are relative to; default "".
  TORCH_ARG(std::string, root) = "";
  /// Dataset name for outputs; default "" (the format name).
  TORCH_ARG(std::string, dataset) = "";
  /// Prompt templates with "{}" for the class name; default none (the raw names, as the official code).
  TORCH_ARG(std::vector<std::string>, templates) = {};
  /// Turn CamelCase / snake_case names into lower-case words first; default false.
  TORCH_ARG(bool, humanize_names) = false;
  /// Frame sampling, resize and batching; default VideoOptions() with 16 frames.
  TORCH_ARG(VideoOptions, video) = VideoOptions().num_frames(16);
  /// Leave unreadable videos out instead of failing; default false.
  TORCH_ARG(bool, skip_bad_videos) = false;
  /// Top-K cut-offs and tie handling; default RecognitionMetricsOptions() (top-1, top-5, pessimistic).
  TORCH_ARG(RecognitionMetricsOptions, metrics) = {};
  /// Embedding cache file; default "" (none).
  TORCH_ARG(std::string, embeddings_cache) = "";
  /// Progress of the video encoding; default none.
  TORCH_ARG(api::ProgressCallback, progress) = nullptr;
  /// Receives notes (cache use, skipped videos); default none.
  TORCH_ARG(std::function<void(const std::string&)>, log) = nullptr;
};

struct RecognitionEvalResult {
  RecognitionMetrics metrics;
  torch::Tensor scores;                   ///< [N, C] float32 cosine similarities of the scored videos
  torch::Tensor labels;                   ///< [N] int64
  std::vector<std::string> videos;        ///< N scored video paths
  std::vector<std::string> class_names;   ///< C names as read
  std::vector<std::string> prompts;       ///< C * templates texts, class-major
  torch::Tensor class_embeddings;         ///< [C, E]
  std::vector<std::string> skipped_videos;
  bool from_cache = false;
  std::string model_sha256, annotations_sha256;
  double encode_seconds = 0, total_seconds = 0;
  double decode_wait_seconds = 0;  ///< of encode_seconds: waiting for decoded video batches
};

/// "ApplyEyeMakeup" -> "apply eye makeup", "brush_hair" -> "brush hair", "YoYo" -> "yo yo".
std::string humanize_class_name(const std::string& name);

/// The texts to encode: for each class (in order) each template with "{}" replaced by the name (the name
/// itself when `templates` is empty). A template without "{}" is an error naming it.
std::vector<std::string> class_prompts(const std::vector<std::string>& class_names,
                                       const std::vector<std::string>& templates);

RecognitionEvalResult run_recognition_eval(const Model& model, const RecognitionEvalOptions& options);

/// The JSON record (eval/results_json.h) of a run.
EvalResults recognition_eval_results(const Model& model, const RecognitionEvalOptions& options,
                                     const RecognitionEvalResult& result);

}  // namespace btadapter::eval
