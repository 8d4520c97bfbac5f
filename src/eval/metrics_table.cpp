#include "btadapter/eval/metrics_table.h"

#include <iomanip>
#include <sstream>

namespace btadapter::eval {
namespace {

constexpr int kLabelWidth = 5;
constexpr int kColumnWidth = 7;

void title_line(std::ostringstream& out, const std::string& title, const std::string& protocol) {
  if (!title.empty()) out << title << " ";
  out << "(" << protocol << ")\n";
}

void cell(std::ostringstream& out, const std::string& text) { out << std::setw(kColumnWidth) << text; }

void cell(std::ostringstream& out, double value) {
  out << std::setw(kColumnWidth) << std::fixed << std::setprecision(1) << value;
}

void retrieval_row(std::ostringstream& out, const std::string& label, const RankSummary& s) {
  out << std::left << std::setw(kLabelWidth) << label << std::right;
  for (const auto& [k, value] : s.recall) cell(out, value);
  cell(out, s.median_rank);
  cell(out, s.mean_rank);
  out << "\n";
}

}  // namespace

std::string format_retrieval_table(const RetrievalMetrics& metrics, const std::string& title) {
  std::ostringstream out;
  title_line(out, title, metrics.protocol());
  out << std::string(kLabelWidth, ' ');
  for (const auto& [k, value] : metrics.t2v.recall) cell(out, "R@" + std::to_string(k));
  cell(out, "MdR");
  cell(out, "MnR");
  out << "\n";
  retrieval_row(out, "t2v", metrics.t2v);
  if (metrics.v2t) retrieval_row(out, "v2t", *metrics.v2t);
  return out.str();
}

std::string format_recognition_table(const RecognitionMetrics& metrics, const std::string& title) {
  std::ostringstream out;
  title_line(out, title, std::string("ties=") + enum_name(metrics.ties));
  for (const auto& [k, value] : metrics.top_k) cell(out, "top" + std::to_string(k));
  out << "  mean-class\n";
  for (const auto& [k, value] : metrics.top_k) cell(out, value);
  out << std::setw(12) << std::fixed << std::setprecision(1) << metrics.mean_class_accuracy << "\n";
  return out.str();
}

}  // namespace btadapter::eval
