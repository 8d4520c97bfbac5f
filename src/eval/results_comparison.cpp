#include "btadapter/eval/results_comparison.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

namespace btadapter::eval {
namespace {

using nlohmann::json;

json read_results(const std::string& path) {
  std::ifstream in(path);
  TORCH_CHECK(in, "cannot read the results file '", path, "'");
  const auto j = json::parse(in, nullptr, false);
  TORCH_CHECK(j.is_object() && j.contains("retrieval") && j["retrieval"].contains("t2v"), "results file '", path,
              "': expected a JSON object with retrieval metrics (as bt_eval_retrieval writes)");
  return j;
}

// `value` at `pointer` formatted in a column of `width`, or "-" when absent.
std::string cell(const json& j, const std::string& pointer, int width) {
  const json::json_pointer at(pointer);
  char text[32];
  if (j.contains(at) && j[at].is_number()) {
    std::snprintf(text, sizeof(text), "%*.1f", width, j[at].get<double>());
  } else {
    std::snprintf(text, sizeof(text), "%*s", width, "-");
  }
  return text;
}

}  // namespace

std::string format_results_comparison(const std::vector<std::pair<std::string, std::string>>& named_files) {
  TORCH_CHECK(!named_files.empty(), "results comparison: expected at least one results file");
  size_t name_width = 5;
  for (const auto& [name, path] : named_files) name_width = std::max(name_width, name.size());
  std::string out = "model" + std::string(name_width - 5, ' ') +
                    "   t2v R@1   R@5  R@10   v2t R@1   R@5  R@10   direction\n";
  for (const auto& [name, path] : named_files) {
    const json j = read_results(path);
    out += name + std::string(name_width - name.size(), ' ');
    out += cell(j, "/retrieval/t2v/R@1", 10) + cell(j, "/retrieval/t2v/R@5", 6) + cell(j, "/retrieval/t2v/R@10", 6);
    out += cell(j, "/retrieval/v2t/R@1", 10) + cell(j, "/retrieval/v2t/R@5", 6) + cell(j, "/retrieval/v2t/R@10", 6);
    out += cell(j, "/direction/accuracy", 12) + "\n";
  }
  return out;
}

}  // namespace btadapter::eval
