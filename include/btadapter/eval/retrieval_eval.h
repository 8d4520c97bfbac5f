#pragma once
/// Zero-shot text-video retrieval of a model on an annotation file: decode and encode every distinct
/// video once, encode every caption, score all pairs and compute t2v / v2t metrics
/// (metrics/retrieval_metrics.h). bt_eval_retrieval is the CLI.
///
///   const DatasetPreset& msrvtt = dataset_preset("msrvtt");              // eval/dataset_presets.h
///   auto model = Model::load(path, LoadOptions().truncate(msrvtt.truncate));
///   auto options = RetrievalEvalOptions("test_JSFUSION.json", msrvtt.format).root("MSRVTT/videos")
///                      .dataset(msrvtt.name).video(preset_video_options(msrvtt, model->config().vision.image_size));
///   RetrievalEvalResult r = run_retrieval_eval(*model, options);
///   std::cout << format_retrieval_table(r.metrics, "MSR-VTT 1k-A");
///
/// Ground truth: each annotation sample is one text; its video is the sample's resolved path, and
/// samples sharing a path share a video (so a file with 20 captions per video gives 20 texts per video).
/// Videos are ordered by first appearance. With skip_bad_videos, unreadable videos are left out and so
/// are their texts (counted in texts_dropped); otherwise the first unreadable video is an error.
///
/// Embedding cache (embeddings_cache non-empty): when the file exists and was made with the same model
/// file(s), config, dtype, annotation file, format, root and video settings, the embeddings are read from
/// it and no video is decoded; otherwise they are computed and the file is (re)written.
///
/// Sits on the facade (btadapter.h), above the rest of eval/. Thread safety: free functions; the model
/// may be shared with other threads.

#include "btadapter/api/video_encoding.h"
#include "btadapter/btadapter.h"
#include "btadapter/eval/dataset_presets.h"
#include "btadapter/eval/html_report.h"
#include "btadapter/eval/results_json.h"
#include "btadapter/metrics/retrieval_metrics.h"

#include <torch/arg.h>

#include <functional>
#include <string>
#include <vector>

namespace btadapter::eval {

struct RetrievalEvalOptions {
  RetrievalEvalOptions(std::string annotations, std::string format)
      : annotations_(std::move(annotations)), format_(std::move(format)) {}
  /// Annotation file (required).
  TORCH_ARG(std::string, annotations);
  /// Its format name (required), e.g. "msrvtt-json".
  TORCH_ARG(std::string, format);
  /// Folder the video names are relative to; default "".
  TORCH_ARG(std::string, root) = "";
  /// Dataset name for outputs; default "" (the format name).
  TORCH_ARG(std::string, dataset) = "";
  /// Frame sampling, resize and batching; default VideoOptions() with 12 frames.
  TORCH_ARG(VideoOptions, video) = VideoOptions().num_frames(12);
  /// Leave unreadable videos (and their texts) out instead of failing; default false.
  TORCH_ARG(bool, skip_bad_videos) = false;
  /// How metrics are computed (ties, official-compat, DSL, v2t); default RetrievalMetricsOptions().
  TORCH_ARG(RetrievalMetricsOptions, metrics) = {};
  /// Embedding cache file; default "" (none).
  TORCH_ARG(std::string, embeddings_cache) = "";
  /// Progress of the video encoding (videos done, total); default none.
  TORCH_ARG(api::ProgressCallback, progress) = nullptr;
  /// Receives notes (cache use, skipped videos); default none.
  TORCH_ARG(std::function<void(const std::string&)>, log) = nullptr;
};

struct RetrievalEvalResult {
  RetrievalMetrics metrics;
  torch::Tensor similarity;             ///< [N_text, N_video] float32, row t = text t
  torch::Tensor text_to_video;          ///< [N_text] int64 ground truth
  std::vector<std::string> texts;       ///< N_text captions
  std::vector<std::string> videos;      ///< N_video resolved paths
  std::vector<std::string> video_ids;   ///< N_video names as written in the annotations
  torch::Tensor text_embeddings;        ///< [N_text, E]
  torch::Tensor video_embeddings;       ///< [N_video, E]
  std::vector<std::string> skipped_videos;  ///< unreadable videos left out
  int64_t texts_dropped = 0;            ///< texts left out with them
  bool from_cache = false;              ///< embeddings read from the cache
  std::string model_sha256;             ///< SHA-256 of the model file ("" for in-memory models)
  std::string annotations_sha256;       ///< SHA-256 of the annotation file
  double encode_seconds = 0;            ///< decoding + encoding (0 when cached)
  double decode_wait_seconds = 0;       ///< of encode_seconds: waiting for decoded video batches
  double total_seconds = 0;             ///< the whole run
};

/// Runs the evaluation (see the file comment). Errors name the annotation file, row or video.
RetrievalEvalResult run_retrieval_eval(const Model& model, const RetrievalEvalOptions& options);

/// The JSON record (eval/results_json.h) of a run, with the resolved settings as its config.
EvalResults retrieval_eval_results(const Model& model, const RetrievalEvalOptions& options,
                                   const RetrievalEvalResult& result);

/// Writes the similarity matrix as safetensors: "similarity" [N_text, N_video] float32 and
/// "text_to_video" [N_text] int64, metadata "texts" and "videos" (JSON lists), "model_sha256", "dataset".
void write_similarity(const std::string& path, const RetrievalEvalResult& result, const std::string& dataset);

/// The HTML report (eval/html_report.h) of a run: keyframes (`keyframes` per video, uniformly sampled)
/// of each shown video, decoded on demand.
void write_retrieval_report(const std::string& path, const RetrievalEvalResult& result,
                            const HtmlReportOptions& options = {}, int64_t keyframes = 4);

}  // namespace btadapter::eval
