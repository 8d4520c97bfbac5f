#include "btadapter/eval/curve_plot.h"

#include "btadapter/io/atomic_file.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

namespace btadapter::eval {
namespace {

// Plot area inside a panel, in pixels.
constexpr int kLeft = 72, kRight = 16, kTop = 30, kBottom = 42;
constexpr double kFontScale = 0.45;

const cv::Scalar kPalette[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},  {40, 39, 214},
                               {189, 103, 148}, {75, 86, 140}, {194, 119, 227}, {127, 127, 127}};

struct Range {
  double lo = 0, hi = 1;
};

// Tick spacing of 1, 2 or 5 times a power of ten giving about `count` ticks over the range.
double tick_step(const Range& r, int count) {
  const double raw = (r.hi - r.lo) / count;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

Range padded_range(double lo, double hi) {
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) return {lo - 0.5, hi + 0.5};
  const double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad};
}

std::string label(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", std::abs(v) < 1e-12 ? 0.0 : v);
  return text;
}

class PanelCanvas {
 public:
  PanelCanvas(cv::Mat panel, Range x, Range y) : m_(std::move(panel)), x_(x), y_(y) {}

  cv::Point at(double x, double y) const {
    const double fx = (x - x_.lo) / (x_.hi - x_.lo), fy = (y - y_.lo) / (y_.hi - y_.lo);
    return {kLeft + static_cast<int>(std::lround(fx * (m_.cols - kLeft - kRight))),
            m_.rows - kBottom - static_cast<int>(std::lround(fy * (m_.rows - kTop - kBottom)))};
  }

  void axes(const std::string& title, const std::string& x_label) {
    const cv::Scalar grid(225, 225, 225), ink(40, 40, 40);
    const double y_step = tick_step(y_, 5), x_step = tick_step(x_, 8);
    for (double v = std::ceil(y_.lo / y_step) * y_step; v <= y_.hi; v += y_step) {
      const int row = at(x_.lo, v).y;
      cv::line(m_, {kLeft, row}, {m_.cols - kRight, row}, grid, 1);
      cv::putText(m_, label(v), {4, row + 4}, cv::FONT_HERSHEY_SIMPLEX, kFontScale, ink, 1, cv::LINE_AA);
    }
    for (double v = std::ceil(x_.lo / x_step) * x_step; v <= x_.hi; v += x_step) {
      const int col = at(v, y_.lo).x;
      cv::line(m_, {col, kTop}, {col, m_.rows - kBottom}, grid, 1);
      cv::putText(m_, label(v), {col - 10, m_.rows - kBottom + 16}, cv::FONT_HERSHEY_SIMPLEX, kFontScale, ink, 1,
                  cv::LINE_AA);
    }
    cv::rectangle(m_, cv::Point(kLeft, kTop), cv::Point(m_.cols - kRight, m_.rows - kBottom), ink, 1);
    cv::putText(m_, title, {kLeft, kTop - 10}, cv::FONT_HERSHEY_SIMPLEX, 0.55, ink, 1, cv::LINE_AA);
    cv::putText(m_, x_label, {m_.cols / 2, m_.rows - 6}, cv::FONT_HERSHEY_SIMPLEX, kFontScale, ink, 1, cv::LINE_AA);
  }

  void series(const CurveSeries& s, const cv::Scalar& colour, int legend_row) {
    std::vector<cv::Point> line;
    for (const auto& [x, y] : s.points) line.push_back(at(x, y));
    if (line.size() == 1) cv::circle(m_, line[0], 3, colour, cv::FILLED, cv::LINE_AA);
    if (line.size() > 1) cv::polylines(m_, line, false, colour, 2, cv::LINE_AA);
    const cv::Point key(m_.cols - kRight - 150, kTop + 16 + 16 * legend_row);
    cv::line(m_, key, key + cv::Point(18, 0), colour, 2, cv::LINE_AA);
    cv::putText(m_, s.name, key + cv::Point(24, 4), cv::FONT_HERSHEY_SIMPLEX, kFontScale, {40, 40, 40}, 1,
                cv::LINE_AA);
  }

 private:
  cv::Mat m_;
  Range x_, y_;
};

void draw_panel(cv::Mat panel, const CurvePanel& p, const std::string& x_label) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto& s : p.series) {
    for (const auto& [x, y] : s.points) {
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x), y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  }
  if (!std::isfinite(x_lo)) {
    PanelCanvas(panel, {}, {}).axes(p.title + " (no data)", x_label);
    return;
  }
  PanelCanvas canvas(panel, padded_range(x_lo, x_hi), padded_range(y_lo, y_hi));
  canvas.axes(p.title, x_label);
  for (size_t i = 0; i < p.series.size(); ++i) {
    canvas.series(p.series[i], kPalette[i % std::size(kPalette)], static_cast<int>(i));
  }
}

}  // namespace

std::vector<CurveSeries> read_jsonl_series(const std::string& path, const std::string& x_field,
                                           const std::vector<std::string>& fields) {
  std::ifstream in(path);
  TORCH_CHECK(in, "cannot read the log '", path, "'");
  std::vector<std::map<double, double>> by_x(fields.size());  // the last record of each x wins
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto record = nlohmann::json::parse(line, nullptr, false);
    TORCH_CHECK(record.is_object(), "log '", path, "' line ", number, ": expected a JSON object");
    const auto x = record.find(x_field);
    if (x == record.end() || !x->is_number()) continue;
    for (size_t f = 0; f < fields.size(); ++f) {
      const auto y = record.find(fields[f]);
      if (y != record.end() && y->is_number()) by_x[f][x->get<double>()] = y->get<double>();
    }
  }
  std::vector<CurveSeries> out(fields.size());
  for (size_t f = 0; f < fields.size(); ++f) {
    out[f].name = fields[f];
    out[f].points.assign(by_x[f].begin(), by_x[f].end());
  }
  return out;
}

void write_curve_plot(const std::string& png_path, const std::vector<CurvePanel>& panels,
                      const CurvePlotOptions& options) {
  TORCH_CHECK(!panels.empty(), "curve plot '", png_path, "': expected at least one panel, got none");
  TORCH_CHECK(options.width() >= 200 && options.panel_height() >= 120, "curve plot '", png_path,
              "': expected width >= 200 and panel_height >= 120, got ", options.width(), " and ",
              options.panel_height());
  const int height = static_cast<int>(options.panel_height());
  cv::Mat image(height * static_cast<int>(panels.size()), static_cast<int>(options.width()), CV_8UC3,
                cv::Scalar(255, 255, 255));
  for (size_t i = 0; i < panels.size(); ++i) {
    draw_panel(image.rowRange(static_cast<int>(i) * height, static_cast<int>(i + 1) * height), panels[i],
               options.x_label());
  }
  io::write_path_atomically(png_path, [&](const std::string& temp) {
    TORCH_CHECK(cv::imwrite(temp, image), "curve plot '", png_path, "': OpenCV cannot write a PNG there");
  });
}

}  // namespace btadapter::eval
