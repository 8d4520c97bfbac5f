#pragma once
/// A self-contained HTML page for looking at retrieval results: for a sample of text queries, the top-k
/// retrieved videos as keyframe strips (JPEG, embedded as base64 data URIs), their scores, the ground
/// truth marked, and the ground truth's rank (with its thumbnail when it is outside the top k).
///
/// Usage:
///   RetrievalReportInput in;
///   in.similarity = sim;                        // [N_text, N_video]
///   in.texts = captions; in.video_names = names;
///   in.frames = [&](int64_t v) { return load_keyframes(v); };   // uint8 [K, H, W, 3] RGB
///   write_html_report("report.html", in, HtmlReportOptions().num_queries(30));
///
/// Page structure (stable, for scripts and tests): one <section class="query" data-query="t"> per query,
/// holding <span class="query-text"> (HTML-escaped text), <p class="gt-rank">, and one
/// <figure class="result" ...> per retrieved video (class "result gt" on the ground truth, which also
/// carries <span class="gt-marker">); a ground truth outside the top k is shown once more in
/// <figure class="gt-outside">. Each figure holds one <img class="thumb" src="data:image/jpeg;base64,...">.
/// Ranks and ordering: scores descending, exact ties by video index (the displayed order); the stated
/// ground-truth rank is the pessimistic rank of metrics/ranking.h, as in the metrics.
///
/// The frame provider is called at most once per displayed video, from the calling thread. The file is
/// written atomically (temp file + rename). Thread safety: free functions without shared state.

#include "btadapter/metrics/ranking.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace btadapter::eval {

/// Keyframes of video `index`: uint8 [K, H, W, 3] RGB, K >= 1, on any device.
using FrameProvider = std::function<torch::Tensor(int64_t index)>;

/// A provider serving per-video frame tensors held in memory (`frames[v]` for video v).
FrameProvider frames_from_tensors(std::vector<torch::Tensor> frames);

struct RetrievalReportInput {
  torch::Tensor similarity;              ///< [N_text, N_video] float32/float64
  torch::Tensor text_to_video;           ///< [N_text] int64; undefined means the diagonal
  std::vector<std::string> texts;        ///< N_text query texts (raw; escaped on output)
  std::vector<std::string> video_names;  ///< N_video names shown under the thumbnails
  FrameProvider frames;                  ///< keyframes per video index
};

struct HtmlReportOptions {
  /// Queries shown, drawn without replacement with `seed` (all when N_text is smaller); default 20.
  TORCH_ARG(int64_t, num_queries) = 20;
  /// Explicit query indices, shown in this order; overrides num_queries; default none.
  TORCH_ARG(std::vector<int64_t>, queries) = {};
  /// Seed of the query sample (std::mt19937_64; the same sample on every platform); default 0.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Retrieved videos shown per query; default 5.
  TORCH_ARG(int64_t, top_k) = 5;
  /// Height in pixels of each keyframe in a strip (aspect ratio kept); default 96.
  TORCH_ARG(int64_t, thumbnail_height) = 96;
  /// JPEG quality 1..100; default 85.
  TORCH_ARG(int64_t, jpeg_quality) = 85;
  /// Page title (escaped); default "Text-to-video retrieval".
  TORCH_ARG(std::string, title) = "Text-to-video retrieval";
};

/// The query indices the report will show (sorted ascending when sampled).
std::vector<int64_t> report_queries(int64_t num_texts, const HtmlReportOptions& options);

/// The HTML text of the report.
std::string render_html_report(const RetrievalReportInput& input, const HtmlReportOptions& options = {});

/// render_html_report written atomically to `path`.
void write_html_report(const std::string& path, const RetrievalReportInput& input,
                       const HtmlReportOptions& options = {});

/// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(const std::string& text);

}  // namespace btadapter::eval
