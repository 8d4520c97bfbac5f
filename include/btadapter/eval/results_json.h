#pragma once
/// The machine-readable record of one evaluation run (what bt_eval_retrieval / bt_eval_recognition
/// write with --output): metrics, how they were computed, dataset, counts, model fingerprint, config.
///
/// JSON layout (keys always present unless noted; numbers are full-precision doubles, percentages 0..100):
///   {
///     "dataset": "msrvtt-1ka",
///     "model": {"path": "...", "sha256": "<64 hex>"},
///     "counts": {"videos_skipped": 0, "skipped_videos": [...],
///                "texts": N_text, "videos": N_video,            (retrieval)
///                "samples": N, "classes": C},                   (recognition)
///     "retrieval": {"protocol": "t2v+v2t, ties=pessimistic, dsl=off",
///                   "ties": "pessimistic", "dual_softmax": false, "dsl_temperature": 100,
///                   "official_compat": false,
///                   "t2v": {"R@1": .., "R@5": .., "R@10": .., "MdR": .., "MnR": .., "queries": N_text},
///                   "v2t": {...}},                              (v2t only when computed)
///     "recognition": {"ties": "pessimistic", "top1": .., "top5": .., "mean_class_accuracy": ..,
///                     "classes_present": ..},
///     "config": {...},                                           (the caller's resolved config)
///     <extra sections>                                           (sections_json's keys, e.g. "direction")
///   }
/// "retrieval" / "recognition" appear when set; at least one must be.
///
/// Thread safety: free functions without shared state.

#include "btadapter/metrics/recognition_metrics.h"
#include "btadapter/metrics/retrieval_metrics.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace btadapter::eval {

struct EvalResults {
  std::string dataset;                      ///< dataset name, e.g. "msrvtt-1ka"
  std::string model_path;                   ///< the evaluated model file
  std::string model_sha256;                 ///< sha256_file(model_path) (io/sha256.h)
  std::string config_json = "{}";           ///< resolved configuration as JSON object text
  /// Further top-level sections as JSON object text, appended after "config" (e.g. {"direction": {...}});
  /// its keys may not reuse the names above.
  std::string sections_json = "{}";
  int64_t videos_skipped = 0;               ///< videos left out (unreadable, missing, ...)
  std::vector<std::string> skipped_videos;  ///< their names (may be shorter than the count)
  std::optional<RetrievalMetrics> retrieval;
  std::optional<RecognitionMetrics> recognition;
};

/// The JSON text (pretty-printed with `indent` spaces; -1 for one line). Throws when config_json or
/// sections_json is not a JSON object, when a section reuses a reserved key, or when neither metrics set
/// is present.
std::string results_to_json(const EvalResults& results, int indent = 2);

/// results_to_json written atomically (temp file + rename) to `path`.
void write_results_json(const EvalResults& results, const std::string& path);

}  // namespace btadapter::eval
