#include "btadapter/eval/qa_predictions.h"

#include "btadapter/io/atomic_file.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace btadapter::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool is_consistency(QaFormat format) { return format == QaFormat::kBenchmarkConsistency; }
bool is_benchmark(QaFormat format) {
  return format == QaFormat::kBenchmarkGeneric || format == QaFormat::kBenchmarkTemporal || is_consistency(format);
}

std::vector<std::string> prediction_fields(QaFormat format) {
  if (is_consistency(format)) return {"pred1", "pred2"};
  return {"pred"};
}

// The fields a record of `format` must have as strings, besides the predictions (id is checked apart).
std::vector<std::string> record_text_fields(QaFormat format) {
  if (is_consistency(format)) return {"video_name", "Q1", "Q2", "A"};
  if (is_benchmark(format)) return {"video_name", "Q", "A"};
  return {"question", "answer"};
}

// Must equal QaItem::key as read_qa_dataset builds it.
std::string record_key(QaFormat format, const json& record) {
  if (!is_benchmark(format)) return record.at("id").dump();
  std::vector<std::string> questions;
  if (is_consistency(format)) {
    questions = {record.at("Q1").get<std::string>(), record.at("Q2").get<std::string>()};
  } else {
    questions = {record.at("Q").get<std::string>()};
  }
  return json::array({record.at("video_name").get<std::string>(), questions}).dump();
}

void check_record(QaFormat format, const json& record, const std::string& path, size_t row) {
  TORCH_CHECK(record.is_object(), "QA predictions ", path, " row ", row, ": expected an object, got ", record.type_name());
  std::vector<std::string> fields = record_text_fields(format);
  for (const std::string& field : prediction_fields(format)) fields.push_back(field);
  for (const std::string& field : fields) {
    TORCH_CHECK(record.contains(field) && record.at(field).is_string(), "QA predictions ", path, " row ", row,
                ": expected a string field \"", field, "\" (", enum_name(format), " format)");
  }
  if (!is_benchmark(format)) {
    TORCH_CHECK(record.contains("id") && (record.at("id").is_string() || record.at("id").is_number_integer()),
                "QA predictions ", path, " row ", row, ": expected field \"id\" (a string or an integer)");
  }
}

std::string normalised_words(const std::string& text) {
  std::string out = " ";
  for (unsigned char c : text) {
    const bool word = std::isalnum(c) || c >= 0x80;
    const char mapped = word ? static_cast<char>(std::tolower(c)) : ' ';
    if (mapped != ' ' || out.back() != ' ') out.push_back(mapped);
  }
  if (out.back() != ' ') out.push_back(' ');
  return out;
}

}  // namespace

struct QaPredictionWriter::Records {
  json list = json::array();
  std::map<std::string, int64_t> key_counts;
};

bool answer_in_prediction(const std::string& answer, const std::string& prediction) {
  const std::string needle = normalised_words(answer);
  if (needle == " ") return false;
  return normalised_words(prediction).find(needle) != std::string::npos;
}

std::string describe(const QaOfflineScore& score) {
  char percent[32];
  std::snprintf(percent, sizeof(percent), "%.2f%%", 100.0 * score.accuracy);
  return std::string("offline answer-in-prediction accuracy (not the paper's GPT-scored metric): ") + percent + " (" +
         std::to_string(score.matched) + "/" + std::to_string(score.predictions) + ")";
}

QaPredictionWriter::QaPredictionWriter(std::string path, QaFormat format, int64_t flush_every)
    : path_(std::move(path)), format_(format), flush_every_(flush_every), records_(std::make_unique<Records>()) {
  TORCH_CHECK(flush_every_ >= 1, "QA predictions: expected flush_every >= 1, got ", flush_every_);
  if (!fs::exists(path_)) return;
  std::ifstream in(path_, std::ios::binary);
  TORCH_CHECK(in, "QA predictions: cannot open ", path_);
  try {
    records_->list = json::parse(in);
  } catch (const json::exception& e) {
    TORCH_CHECK(false, "QA predictions ", path_, ": expected the JSON list of a previous run, got a parse error: ", e.what());
  }
  TORCH_CHECK(records_->list.is_array(), "QA predictions ", path_, ": expected a JSON list, got ",
              records_->list.type_name());
  for (size_t i = 0; i < records_->list.size(); ++i) {
    check_record(format_, records_->list[i], path_, i);
    ++records_->key_counts[record_key(format_, records_->list[i])];
  }
}

QaPredictionWriter::~QaPredictionWriter() = default;

std::vector<bool> QaPredictionWriter::answered(const std::vector<QaItem>& items) const {
  std::map<std::string, int64_t> remaining = records_->key_counts;
  std::vector<bool> result(items.size(), false);
  for (size_t i = 0; i < items.size(); ++i) {
    auto found = remaining.find(items[i].key);
    if (found != remaining.end() && found->second > 0) {
      --found->second;
      result[i] = true;
    }
  }
  return result;
}

void QaPredictionWriter::append(const QaItem& item, const std::vector<std::string>& predictions) {
  const std::vector<std::string> fields = prediction_fields(format_);
  TORCH_CHECK(predictions.size() == fields.size(), "QA predictions: expected ", fields.size(), " prediction(s) for ",
              enum_name(format_), " row ", item.row, ", got ", predictions.size());
  json record = json::parse(item.record_json);
  for (size_t i = 0; i < fields.size(); ++i) record[fields[i]] = predictions[i];
  ++records_->key_counts[item.key];
  records_->list.push_back(std::move(record));
  if (++pending_ >= flush_every_) flush();
}

void QaPredictionWriter::flush() {
  if (pending_ == 0 && fs::exists(path_)) return;
  io::write_file_atomically(path_, records_->list.dump());
  pending_ = 0;
}

int64_t QaPredictionWriter::size() const { return static_cast<int64_t>(records_->list.size()); }

QaOfflineScore QaPredictionWriter::offline_score() const {
  QaOfflineScore score;
  const std::string answer_field = is_benchmark(format_) ? "A" : "answer";
  for (const json& record : records_->list) {
    for (const std::string& field : prediction_fields(format_)) {
      ++score.predictions;
      score.matched += answer_in_prediction(record.at(answer_field), record.at(field)) ? 1 : 0;
    }
  }
  if (score.predictions > 0) score.accuracy = static_cast<double>(score.matched) / score.predictions;
  return score;
}

QaRunSummary run_qa_predictions(const std::vector<QaItem>& items, const std::string& video_dir,
                                QaPredictionWriter& writer, const QaAnswerFunction& answer,
                                const std::function<void(int64_t, int64_t)>& on_item) {
  QaRunSummary summary;
  summary.items = static_cast<int64_t>(items.size());
  const std::vector<bool> answered = writer.answered(items);
  for (size_t i = 0; i < items.size(); ++i) {
    const QaItem& item = items[i];
    if (answered[i]) {
      ++summary.already_answered;
    } else if (const std::optional<std::string> video = find_qa_video(item, video_dir)) {
      std::vector<std::string> predictions;
      std::string error;
      try {
        predictions = answer(item, *video);
      } catch (const c10::Error& e) {
        error = e.what_without_backtrace();
      } catch (const std::exception& e) {
        error = e.what();
      }
      if (error.empty()) {
        writer.append(item, predictions);
        ++summary.answered;
      } else {
        ++summary.skipped;
        summary.skipped_reasons.push_back(item.video_name + ": " + error);
      }
    } else {
      ++summary.skipped;
      summary.skipped_reasons.push_back(item.video_name + ": video not found under " + video_dir);
    }
    if (on_item) on_item(static_cast<int64_t>(i) + 1, summary.items);
  }
  writer.flush();
  return summary;
}

}  // namespace btadapter::eval
