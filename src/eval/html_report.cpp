#include "btadapter/eval/html_report.h"

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "atomic_write.h"

namespace btadapter::eval {
namespace {

constexpr char kStyle[] = R"(body{font-family:sans-serif;margin:1.5em;background:#fafafa;color:#222}
section.query{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
h2{font-size:1.05em;font-weight:normal;margin:.2em 0 .5em}
.query-text{font-weight:bold}
.results{display:flex;flex-wrap:wrap;gap:.6em;align-items:flex-start}
figure{margin:0;padding:4px;border:3px solid transparent;border-radius:4px;max-width:20em}
figure.gt,figure.gt-outside{border-color:#2a9d3a}
figure.gt-outside{margin-top:.6em;border-style:dashed}
img.thumb{display:block;max-width:100%}
figcaption{font-size:.85em;margin-top:3px;word-break:break-all}
.gt-marker{background:#2a9d3a;color:#fff;border-radius:3px;padding:0 4px;margin-left:4px}
.gt-rank{font-size:.9em;color:#555;margin:.2em 0 .5em})";

std::string base64(const std::vector<uchar>& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t chunk = uint32_t(bytes[i]) << 16 | (i + 1 < bytes.size() ? uint32_t(bytes[i + 1]) << 8 : 0) |
                           (i + 2 < bytes.size() ? uint32_t(bytes[i + 2]) : 0);
    out += kAlphabet[chunk >> 18];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

// Keyframes [K, H, W, 3] RGB uint8 -> one horizontal strip, JPEG, as a data URI.
std::string keyframe_strip(const torch::Tensor& frames, const std::string& name, const HtmlReportOptions& options) {
  TORCH_CHECK(frames.defined() && frames.dim() == 4 && frames.size(0) >= 1 && frames.size(3) == 3 &&
                  frames.size(1) >= 1 && frames.size(2) >= 1 && frames.scalar_type() == torch::kByte,
              "expected keyframes of video '", name, "' as uint8 [K, H, W, 3] RGB with K >= 1, got ",
              frames.defined() ? frames.sizes() : torch::IntArrayRef{}, " ",
              frames.defined() ? c10::toString(frames.scalar_type()) : "undefined tensor");
  auto cpu = frames.to(torch::kCPU).contiguous();
  const int height = static_cast<int>(options.thumbnail_height());
  std::vector<cv::Mat> tiles;
  for (int64_t k = 0; k < cpu.size(0); ++k) {
    cv::Mat rgb(static_cast<int>(cpu.size(1)), static_cast<int>(cpu.size(2)), CV_8UC3, cpu[k].data_ptr<uint8_t>());
    const int width = std::max(1, static_cast<int>(std::lround(double(rgb.cols) * height / rgb.rows)));
    cv::Mat tile;
    cv::resize(rgb, tile, cv::Size(width, height), 0, 0, cv::INTER_AREA);
    tiles.push_back(tile);
  }
  cv::Mat strip, bgr;
  cv::hconcat(tiles, strip);
  cv::cvtColor(strip, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> jpeg;
  TORCH_CHECK(cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, static_cast<int>(options.jpeg_quality())}),
              "cannot encode the keyframes of video '", name, "' as JPEG");
  return "data:image/jpeg;base64," + base64(jpeg);
}

// Encodes each displayed video once, however many queries show it.
class Thumbnails {
 public:
  Thumbnails(const RetrievalReportInput& input, const HtmlReportOptions& options) : input_(input), options_(options) {}

  const std::string& get(int64_t video) {
    auto it = cache_.find(video);
    if (it != cache_.end()) return it->second;
    const auto& name = input_.video_names[video];
    return cache_[video] = keyframe_strip(input_.frames(video), name, options_);
  }

 private:
  const RetrievalReportInput& input_;
  const HtmlReportOptions& options_;
  std::map<int64_t, std::string> cache_;
};

std::string format_score(double score) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(4) << score;
  return out.str();
}

void render_figure(std::ostringstream& out, const char* css_class, int64_t rank, int64_t video, double score,
                   bool is_gt, const RetrievalReportInput& input, Thumbnails& thumbnails) {
  const std::string name = html_escape(input.video_names[video]);
  out << "<figure class=\"" << css_class << "\" data-rank=\"" << rank << "\" data-video=\"" << video << "\">"
      << "<img class=\"thumb\" src=\"" << thumbnails.get(video) << "\" alt=\"" << name << "\">"
      << "<figcaption>" << rank << ". " << name << "<br>score " << format_score(score);
  if (is_gt) out << "<span class=\"gt-marker\">ground truth</span>";
  out << "</figcaption></figure>\n";
}

void render_query(std::ostringstream& out, int64_t query, int64_t gt, int64_t gt_rank,
                  const RetrievalReportInput& input, const HtmlReportOptions& options, Thumbnails& thumbnails) {
  auto row = input.similarity[query].to(torch::kDouble).to(torch::kCPU).contiguous();
  auto order = std::get<1>(row.sort(/*stable=*/true, 0, /*descending=*/true));
  const int64_t shown = std::min(options.top_k(), row.size(0));
  out << "<section class=\"query\" data-query=\"" << query << "\">\n<h2>#" << query << ": <span class=\"query-text\">"
      << html_escape(input.texts[query]) << "</span></h2>\n<p class=\"gt-rank\">ground truth: "
      << html_escape(input.video_names[gt]) << ", rank " << gt_rank << " of " << row.size(0) << "</p>\n"
      << "<div class=\"results\">\n";
  bool gt_shown = false;
  for (int64_t r = 0; r < shown; ++r) {
    const int64_t video = order[r].item<int64_t>();
    gt_shown |= video == gt;
    render_figure(out, video == gt ? "result gt" : "result", r + 1, video, row[video].item<double>(), video == gt,
                  input, thumbnails);
  }
  out << "</div>\n";
  if (!gt_shown) render_figure(out, "gt-outside", gt_rank, gt, row[gt].item<double>(), true, input, thumbnails);
  out << "</section>\n";
}

void check_input(const RetrievalReportInput& input, const torch::Tensor& gt, const HtmlReportOptions& options) {
  const auto& sim = input.similarity;
  TORCH_CHECK(sim.defined() && sim.dim() == 2, "expected a similarity matrix [N_text, N_video], got ",
              sim.defined() ? sim.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(static_cast<int64_t>(input.texts.size()) == sim.size(0), "expected ", sim.size(0),
              " query texts (one per similarity row), got ", input.texts.size());
  TORCH_CHECK(static_cast<int64_t>(input.video_names.size()) == sim.size(1), "expected ", sim.size(1),
              " video names (one per similarity column), got ", input.video_names.size());
  TORCH_CHECK(static_cast<bool>(input.frames), "expected a frame provider for the report's thumbnails");
  TORCH_CHECK(options.top_k() >= 1, "expected top_k >= 1, got ", options.top_k());
  TORCH_CHECK(options.thumbnail_height() >= 8, "expected thumbnail_height >= 8, got ", options.thumbnail_height());
  TORCH_CHECK(options.jpeg_quality() >= 1 && options.jpeg_quality() <= 100, "expected jpeg_quality in [1, 100], got ",
              options.jpeg_quality());
  TORCH_CHECK(gt.dim() == 1 && gt.size(0) == sim.size(0), "expected text_to_video of shape [", sim.size(0), "], got ",
              gt.sizes());
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

FrameProvider frames_from_tensors(std::vector<torch::Tensor> frames) {
  return [frames = std::move(frames)](int64_t index) {
    TORCH_CHECK(index >= 0 && index < static_cast<int64_t>(frames.size()), "expected a video index in [0, ",
                frames.size(), "), got ", index);
    return frames[index];
  };
}

std::vector<int64_t> report_queries(int64_t num_texts, const HtmlReportOptions& options) {
  if (!options.queries().empty()) {
    for (int64_t q : options.queries()) {
      TORCH_CHECK(q >= 0 && q < num_texts, "expected report query indices in [0, ", num_texts, "), got ", q);
    }
    return options.queries();
  }
  std::vector<int64_t> all(num_texts);
  std::iota(all.begin(), all.end(), 0);
  const int64_t wanted = std::max<int64_t>(0, options.num_queries());
  if (wanted >= num_texts) return all;
  // Partial Fisher-Yates with mt19937_64, whose output the standard fixes: same sample everywhere.
  std::mt19937_64 rng(options.seed());
  for (int64_t i = 0; i < wanted; ++i) std::swap(all[i], all[i + static_cast<int64_t>(rng() % (num_texts - i))]);
  all.resize(wanted);
  std::sort(all.begin(), all.end());
  return all;
}

std::string render_html_report(const RetrievalReportInput& input, const HtmlReportOptions& options) {
  auto gt = input.text_to_video.defined() ? input.text_to_video.to(torch::kCPU)
                                          : torch::arange(input.similarity.defined() ? input.similarity.size(0) : 0);
  check_input(input, gt, options);
  auto queries = report_queries(input.similarity.size(0), options);
  auto selected = torch::tensor(queries, torch::kLong);
  auto sim_rows = input.similarity.index_select(0, selected.to(input.similarity.device()));
  auto gt_rows = gt.index_select(0, selected);
  auto gt_ranks = target_ranks(sim_rows, gt_rows, TieMode::kPessimistic);

  std::ostringstream out;
  const std::string title = html_escape(options.title());
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << title
      << "</title>\n<style>\n" << kStyle << "\n</style>\n</head>\n<body>\n<h1>" << title << "</h1>\n"
      << "<p class=\"summary\">" << input.similarity.size(0) << " texts, " << input.similarity.size(1) << " videos; "
      << queries.size() << " queries shown with their top " << options.top_k()
      << " videos (ties: pessimistic rank, displayed by video index)</p>\n";
  Thumbnails thumbnails(input, options);
  for (size_t i = 0; i < queries.size(); ++i) {
    render_query(out, queries[i], gt_rows[i].item<int64_t>(), gt_ranks[i].item<int64_t>(), input, options, thumbnails);
  }
  out << "</body>\n</html>\n";
  return out.str();
}

void write_html_report(const std::string& path, const RetrievalReportInput& input, const HtmlReportOptions& options) {
  detail::write_file_atomically(path, render_html_report(input, options));
}

}  // namespace btadapter::eval
