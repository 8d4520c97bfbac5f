// bt_plot_log: training curves from a JSONL log as a PNG (one panel per --panel).
#include "btadapter/eval/curve_plot.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <iostream>
#include <sstream>

namespace {

// "title:field,field,..." -> a panel of those fields read from `log`.
btadapter::eval::CurvePanel parse_panel(const std::string& spec, const std::string& log) {
  const auto colon = spec.find(':');
  TORCH_CHECK(colon != std::string::npos && colon + 1 < spec.size(),
              "--panel: expected 'title:field[,field...]', got '", spec, "'");
  std::vector<std::string> fields;
  std::stringstream list(spec.substr(colon + 1));
  for (std::string f; std::getline(list, f, ',');) fields.push_back(f);
  return {spec.substr(0, colon), btadapter::eval::read_jsonl_series(log, "step", fields)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Plot training curves from a JSONL log (numeric fields against the step) into a PNG"};
  std::string log, out;
  std::vector<std::string> panel_specs;
  btadapter::eval::CurvePlotOptions options;
  app.add_option("--log", log, "JSONL log written by bt_pretrain")->required();
  app.add_option("--panel", panel_specs, "'title:field,field' (repeat for more panels)")->required();
  app.add_option("--out", out, "PNG file to write")->required();
  app.add_option("--width", options.width(), "image width in pixels")->capture_default_str();
  app.add_option("--panel-height", options.panel_height(), "height of each panel in pixels")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_plot_log", [&] {
    std::vector<btadapter::eval::CurvePanel> panels;
    for (const auto& spec : panel_specs) panels.push_back(parse_panel(spec, log));
    btadapter::eval::write_curve_plot(out, panels, options);
    std::cout << out << std::endl;
    return 0;
  });
}
