#pragma once
/// Training curves as a PNG: numeric fields of a JSONL log (train/jsonl_logger.h) plotted against the
/// step, one panel per group of fields (e.g. the loss terms in one panel, validation R@1 in another).
///
///   auto losses = read_jsonl_series("run/log.jsonl", "step", {"vtc", "mbca", "mbta"});
///   auto r1 = read_jsonl_series("run/log.jsonl", "step", {"t2v_r1"});
///   write_curve_plot("run/curves.png", {{"losses", losses}, {"validation R@1", r1}});
///
/// Records without the x field, and fields that are missing, null or not numbers in a record, are left
/// out of that series. When a step appears twice (a resumed run repeats the steps after its checkpoint)
/// the last record wins, as for every reader of the log.
///
/// Thread safety: free functions without shared state.

#include <torch/arg.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace btadapter::eval {

struct CurveSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  ///< (x, y), x ascending
};

struct CurvePanel {
  std::string title;
  std::vector<CurveSeries> series;
};

struct CurvePlotOptions {
  /// Image width in pixels; default 960.
  TORCH_ARG(int64_t, width) = 960;
  /// Height of each panel in pixels; default 300.
  TORCH_ARG(int64_t, panel_height) = 300;
  /// Label of the x axis; default "step".
  TORCH_ARG(std::string, x_label) = "step";
};

/// One series per name in `fields` (in that order), read from the JSONL file at `path`. Throws naming the
/// file and line for a line that is not a JSON object, or when the file cannot be read.
std::vector<CurveSeries> read_jsonl_series(const std::string& path, const std::string& x_field,
                                           const std::vector<std::string>& fields);

/// Draws the panels stacked vertically (axes with tick labels, one colour per series, a legend) and
/// writes a PNG atomically. A panel without points says so. Expects at least one panel.
void write_curve_plot(const std::string& png_path, const std::vector<CurvePanel>& panels,
                      const CurvePlotOptions& options = {});

}  // namespace btadapter::eval
