#include "btadapter/eval/qa_datasets.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

namespace btadapter::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The four extensions the official scripts try, in their order.
const std::vector<std::string> kQaVideoExtensions = {".mp4", ".avi", ".mov", ".mkv"};

json read_qa_json_list(const std::string& path) {
  TORCH_CHECK(fs::is_regular_file(path), "QA dataset: file not found: ", path);
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "QA dataset: cannot open ", path);
  json rows;
  try {
    rows = json::parse(in);
  } catch (const json::exception& e) {
    TORCH_CHECK(false, "QA dataset ", path, ": expected JSON, got a parse error: ", e.what());
  }
  TORCH_CHECK(rows.is_array(), "QA dataset ", path, ": expected a JSON list of objects, got ", rows.type_name());
  for (size_t i = 0; i < rows.size(); ++i) {
    TORCH_CHECK(rows[i].is_object(), "QA dataset ", path, " row ", i, ": expected an object, got ", rows[i].type_name());
  }
  return rows;
}

// The first of `names` present in `row` (official `a if 'a' in sample else b`).
const json& qa_field(const json& row, const std::vector<std::string>& names, const std::string& path, size_t index) {
  for (const std::string& name : names) {
    if (row.contains(name)) return row.at(name);
  }
  std::string wanted = "\"" + names[0] + "\"";
  for (size_t i = 1; i < names.size(); ++i) wanted += " or \"" + names[i] + "\"";
  TORCH_CHECK(false, "QA dataset ", path, " row ", index, ": expected field ", wanted, ", got none");
}

std::string qa_string(const json& row, const std::vector<std::string>& names, const std::string& path, size_t index) {
  const json& value = qa_field(row, names, path, index);
  TORCH_CHECK(value.is_string(), "QA dataset ", path, " row ", index, ": expected field \"", names[0],
              "\" to be a string, got ", value.type_name());
  return value.get<std::string>();
}

// Question ids are strings (ActivityNet "v_x_0") or integers (MSVD/MSRVTT); kept as written.
const json& qa_id(const json& row, const std::vector<std::string>& names, const std::string& path, size_t index) {
  const json& value = qa_field(row, names, path, index);
  TORCH_CHECK(value.is_string() || value.is_number_integer(), "QA dataset ", path, " row ", index, ": expected field \"",
              names[0], "\" to be a string or an integer, got ", value.type_name());
  return value;
}

std::vector<QaItem> read_id_keyed(const std::string& path) {
  const json rows = read_qa_json_list(path);
  std::vector<QaItem> items;
  for (size_t i = 0; i < rows.size(); ++i) {
    QaItem item;
    const json& id = qa_id(rows[i], {"question_id", "id"}, path, i);
    item.video_name = qa_string(rows[i], {"video_name", "video"}, path, i);
    item.questions = {qa_string(rows[i], {"question"}, path, i)};
    item.answer = qa_string(rows[i], {"answer"}, path, i);
    item.key = id.dump();
    item.record_json = json{{"id", id}, {"question", item.questions[0]}, {"answer", item.answer}}.dump();
    item.row = static_cast<int64_t>(i);
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<QaItem> read_activitynet(const std::string& questions_path, const std::string& answers_path) {
  const json questions = read_qa_json_list(questions_path);
  const json answers = read_qa_json_list(answers_path);
  std::map<std::string, std::string> answer_of;
  for (size_t i = 0; i < answers.size(); ++i) {
    answer_of[qa_id(answers[i], {"question_id"}, answers_path, i).dump()] = qa_string(answers[i], {"answer"}, answers_path, i);
  }
  std::vector<QaItem> items;
  for (size_t i = 0; i < questions.size(); ++i) {
    QaItem item;
    const json& id = qa_id(questions[i], {"question_id"}, questions_path, i);
    item.key = id.dump();
    const auto answer = answer_of.find(item.key);
    TORCH_CHECK(answer != answer_of.end(), "QA dataset ", questions_path, " row ", i, ": question_id ", item.key,
                " has no answer in ", answers_path);
    item.video_name = "v_" + qa_string(questions[i], {"video_name"}, questions_path, i);
    item.video_extensions = kQaVideoExtensions;
    item.questions = {qa_string(questions[i], {"question"}, questions_path, i)};
    item.answer = answer->second;
    item.record_json = json{{"id", id}, {"question", item.questions[0]}, {"answer", item.answer}}.dump();
    item.row = static_cast<int64_t>(i);
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<QaItem> read_benchmark(const std::string& path, bool consistency) {
  const json rows = read_qa_json_list(path);
  std::vector<QaItem> items;
  for (size_t i = 0; i < rows.size(); ++i) {
    QaItem item;
    item.video_name = qa_string(rows[i], {"video_name"}, path, i);
    item.video_extensions = kQaVideoExtensions;
    if (consistency) {
      item.questions = {qa_string(rows[i], {"Q1"}, path, i), qa_string(rows[i], {"Q2"}, path, i)};
    } else {
      item.questions = {qa_string(rows[i], {"Q"}, path, i)};
    }
    item.answer = qa_string(rows[i], {"A"}, path, i);
    item.key = json::array({item.video_name, item.questions}).dump();
    item.record_json = rows[i].dump();
    item.row = static_cast<int64_t>(i);
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

std::vector<QaItem> read_qa_dataset(QaFormat format, const std::string& questions_file, const std::string& answers_file) {
  TORCH_CHECK((format == QaFormat::kActivityNetQa) == !answers_file.empty(), "QA dataset ", questions_file, ": ",
              format == QaFormat::kActivityNetQa ? "activitynet-qa expects an answer file, got none"
                                                 : std::string(enum_name(format)) + " takes no answer file, got " + answers_file);
  switch (format) {
    case QaFormat::kMsvdQa:
    case QaFormat::kMsrvttQa: return read_id_keyed(questions_file);
    case QaFormat::kActivityNetQa: return read_activitynet(questions_file, answers_file);
    case QaFormat::kBenchmarkGeneric:
    case QaFormat::kBenchmarkTemporal: return read_benchmark(questions_file, false);
    case QaFormat::kBenchmarkConsistency: return read_benchmark(questions_file, true);
  }
  TORCH_CHECK(false, "QA format: unknown value ", static_cast<int>(format));
}

std::optional<std::string> find_qa_video(const QaItem& item, const std::string& video_dir) {
  if (item.video_extensions.empty()) {
    const fs::path path = fs::path(video_dir) / item.video_name;
    if (fs::exists(path)) return path.string();
    return std::nullopt;
  }
  for (const std::string& extension : item.video_extensions) {
    const fs::path path = fs::path(video_dir) / (item.video_name + extension);
    if (fs::exists(path)) return path.string();
  }
  return std::nullopt;
}

}  // namespace btadapter::eval
