#include "btadapter/eval/results_json.h"

#include <nlohmann/json.hpp>

#include "btadapter/io/atomic_file.h"

namespace btadapter::eval {
namespace {

using nlohmann::ordered_json;

ordered_json summary_json(const RankSummary& s) {
  ordered_json out;
  for (const auto& [k, value] : s.recall) out["R@" + std::to_string(k)] = value;
  out["MdR"] = s.median_rank;
  out["MnR"] = s.mean_rank;
  out["queries"] = s.num_queries;
  return out;
}

ordered_json retrieval_json(const RetrievalMetrics& m) {
  ordered_json out;
  out["protocol"] = m.protocol();
  out["ties"] = enum_name(m.ties);
  out["dual_softmax"] = m.dual_softmax;
  out["dsl_temperature"] = m.dsl_temperature;
  out["official_compat"] = m.official_compat;
  out["t2v"] = summary_json(m.t2v);
  if (m.v2t) out["v2t"] = summary_json(*m.v2t);
  return out;
}

ordered_json recognition_json(const RecognitionMetrics& m) {
  ordered_json out;
  out["ties"] = enum_name(m.ties);
  for (const auto& [k, value] : m.top_k) out["top" + std::to_string(k)] = value;
  out["mean_class_accuracy"] = m.mean_class_accuracy;
  out["classes_present"] = m.num_classes_present;
  return out;
}

ordered_json parse_object(const std::string& text, const char* field) {
  ordered_json object;
  try {
    object = ordered_json::parse(text.empty() ? "{}" : text);
  } catch (const nlohmann::json::exception& e) {
    TORCH_CHECK(false, "expected ", field, " to be JSON text, got a parse error: ", e.what());
  }
  TORCH_CHECK(object.is_object(), "expected ", field, " to be a JSON object, got ", object.type_name());
  return object;
}

}  // namespace

std::string results_to_json(const EvalResults& results, int indent) {
  TORCH_CHECK(results.retrieval || results.recognition,
              "expected retrieval or recognition metrics in the results of dataset '", results.dataset, "', got none");
  ordered_json out;
  out["dataset"] = results.dataset;
  out["model"] = {{"path", results.model_path}, {"sha256", results.model_sha256}};
  ordered_json counts;
  counts["videos_skipped"] = results.videos_skipped;
  counts["skipped_videos"] = results.skipped_videos;
  if (results.retrieval) {
    counts["texts"] = results.retrieval->num_texts;
    counts["videos"] = results.retrieval->num_videos;
  }
  if (results.recognition) {
    counts["samples"] = results.recognition->num_samples;
    counts["classes"] = results.recognition->num_classes;
  }
  out["counts"] = counts;
  if (results.retrieval) out["retrieval"] = retrieval_json(*results.retrieval);
  if (results.recognition) out["recognition"] = recognition_json(*results.recognition);
  out["config"] = parse_object(results.config_json, "config_json");
  const ordered_json sections = parse_object(results.sections_json, "sections_json");
  for (const auto& [key, value] : sections.items()) {
    TORCH_CHECK(!out.contains(key), "expected sections_json keys other than the record's own, got '", key, "'");
    out[key] = value;
  }
  // Names from the file system may not be UTF-8: replace bad bytes rather than fail at the very end.
  return out.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace) + "\n";
}

void write_results_json(const EvalResults& results, const std::string& path) {
  io::write_file_atomically(path, results_to_json(results));
}

}  // namespace btadapter::eval
