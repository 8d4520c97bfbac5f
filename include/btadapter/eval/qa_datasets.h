#pragma once
/// Video question-answering evaluation sets, read as the official BT-Adapter inference scripts read them
/// (`llava_base/bt_adapter/eval/run_inference_*.py`), for the conversation model.
///
///   std::vector<QaItem> items = read_qa_dataset(QaFormat::kActivityNetQa, "test_q.json", "test_a.json");
///   for (const QaItem& item : items) {
///     std::optional<std::string> video = find_qa_video(item, "videos/");   // nullopt: not found
///   }
///
/// Formats (JSON lists of objects; every row is checked, errors name the file and the row):
///  - kMsvdQa / kMsrvttQa: `{video_name | video, question, answer, question_id | id}`; the video is the
///    file `video_dir/<video_name>` as given.
///  - kActivityNetQa: a question file `{video_name, question, question_id}` and an answer file
///    `{answer, question_id, ...}`, joined by question_id (the official script pairs them by row
///    index, which is the same join for the released files); the video is `v_<video_name>` + one of
///    .mp4 .avi .mov .mkv.
///  - kBenchmarkGeneric / kBenchmarkTemporal (Video-ChatGPT benchmark): `{video_name, Q, A, ...}`;
///    kBenchmarkConsistency: `{video_name, Q1, Q2, A, ...}`; the video is `<video_name>` + one of the
///    four extensions.
/// Ids may be JSON strings or numbers; they are kept as written for the prediction file.
///
/// Thread safety: free functions without shared state.

#include "btadapter/config/enum_names.h"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace btadapter::eval {

enum class QaFormat { kMsvdQa, kMsrvttQa, kActivityNetQa, kBenchmarkGeneric, kBenchmarkTemporal, kBenchmarkConsistency };

/// One evaluation question (two for kBenchmarkConsistency).
struct QaItem {
  /// Resume key: the id's JSON text for the id-keyed sets; video_name + questions for the benchmark
  /// (whose rows have no id). Two rows may share a key; see QaPredictionWriter::answered.
  std::string key;
  std::string video_name;               ///< as the file gives it (ActivityNet: with the "v_" prefix)
  std::vector<std::string> video_extensions;  ///< tried in order; empty: video_name is the file name
  std::vector<std::string> questions;   ///< 1, or 2 (Q1, Q2) for consistency
  std::string answer;                   ///< the reference answer
  /// The prediction record without its "pred" fields, as JSON object text: {id, question, answer}
  /// for the id-keyed sets, the whole input row for the benchmark (the official scripts copy it).
  std::string record_json;
  int64_t row = 0;                      ///< 0-based row in the question file
};

/// Reads a QA set. `answers_file` is required for kActivityNetQa and must be empty otherwise. Throws
/// c10::Error naming the file (and row, field) for a missing file, bad JSON, a missing or mistyped
/// field, or an ActivityNet question without an answer.
std::vector<QaItem> read_qa_dataset(QaFormat format, const std::string& questions_file,
                                    const std::string& answers_file = "");

/// The item's video under `video_dir`: the first of video_name + each extension that exists (or
/// video_name itself when there are none); nullopt when none exists.
std::optional<std::string> find_qa_video(const QaItem& item, const std::string& video_dir);

}  // namespace btadapter::eval

namespace btadapter {

template <>
struct EnumNames<eval::QaFormat> {
  static constexpr const char* kWhat = "QA format";
  static constexpr std::array<std::pair<eval::QaFormat, const char*>, 6> kNames{{
      {eval::QaFormat::kMsvdQa, "msvd-qa"},
      {eval::QaFormat::kMsrvttQa, "msrvtt-qa"},
      {eval::QaFormat::kActivityNetQa, "activitynet-qa"},
      {eval::QaFormat::kBenchmarkGeneric, "benchmark-generic"},
      {eval::QaFormat::kBenchmarkTemporal, "benchmark-temporal"},
      {eval::QaFormat::kBenchmarkConsistency, "benchmark-consistency"}}};
};

}  // namespace btadapter
