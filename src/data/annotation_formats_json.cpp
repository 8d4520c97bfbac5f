// Readers of the JSON annotation formats: MSR-VTT dicts, VINDLU/UMT lists, paragraph lists (ActivityNet,
// DiDeMo), the official LSMDC dict and the generic JSONL.
#include "annotation_builder.h"

#include "btadapter/data/csv.h"
#include "btadapter/io/json_limits.h"

#include <filesystem>

namespace btadapter::data::detail {

namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

std::string entry_of(int64_t entry, const std::string& key) {
  return "entry " + std::to_string(entry) + (key.empty() ? "" : " ('" + io::quote_text(key) + "')");
}

// A whole file of the wrong shape is not a bad row: it is the wrong format.
void check_top_level(const Json& json, bool want_object, const std::string& path, const char* format,
                     const char* layout) {
  TORCH_CHECK(want_object ? json.is_object() : json.is_array(), format, " annotations '", path, "': expected ", layout,
              ", got a JSON ", json_type(json));
}

// Sentences as a list of strings (or one string); false (bad row recorded) for anything else.
bool sentences_of(const Json& value, std::vector<std::string>& sentences, int64_t entry, const std::string& key,
                  AnnotationBuilder& out) {
  sentences.clear();
  if (value.is_string()) {
    sentences.push_back(value.get<std::string>());
    return true;
  }
  if (value.is_array() && !value.empty()) {
    for (const auto& s : value) {
      if (!s.is_string()) {
        out.bad_row(entry, entry_of(entry, key), "expected a list of strings, got a list holding a " + json_type(s));
        return false;
      }
      sentences.push_back(s.get<std::string>());
    }
    return true;
  }
  out.bad_row(entry, entry_of(entry, key), "expected a caption string or a non-empty list of strings, got a " +
                                               (value.is_array() ? std::string("empty list") : json_type(value)));
  return false;
}

std::string join(const std::vector<std::string>& sentences) {
  std::string text;
  for (const auto& s : sentences) text += (text.empty() ? "" : " ") + strip(s);
  return text;
}

// `{"name": sentences}`: one sample per sentence, or one per entry with the sentences joined.
void read_sentence_dict(const std::string& path, AnnotationBuilder& out, const char* format, bool paragraph) {
  const Json json = load_json_file(path);
  check_top_level(json, true, path, format, "an object {\"video\": [sentences]}");
  int64_t entry = 0;
  std::vector<std::string> sentences;
  for (const auto& [key, value] : json.items()) {
    ++entry;
    if (!sentences_of(value, sentences, entry, key, out)) continue;
    if (paragraph) {
      out.add({out.video_path(key), join(sentences), -1, key, entry}, entry_of(entry, key));
    } else {
      for (const auto& s : sentences) out.add({out.video_path(key), s, -1, key, entry}, entry_of(entry, key));
    }
  }
}

// `[{"video": ..., "caption": ...}]`: one sample per caption, or one per entry with captions joined.
void read_video_caption_list(const std::string& path, AnnotationBuilder& out, const char* format, bool paragraph) {
  const Json json = load_json_file(path);
  check_top_level(json, false, path, format, "a list of {\"video\": ..., \"caption\": ...}");
  int64_t entry = 0;
  std::vector<std::string> sentences;
  for (const auto& item : json) {
    ++entry;
    if (!item.is_object() || !item.contains("video") || !item["video"].is_string() || !item.contains("caption")) {
      out.bad_row(entry, entry_of(entry, ""),
                  "expected an object with a string \"video\" and a \"caption\", got a " + json_type(item) +
                      (item.is_object() ? " " + io::json_quote(item) : ""));
      continue;
    }
    const std::string video = item["video"].get<std::string>();
    if (!sentences_of(item["caption"], sentences, entry, video, out)) continue;
    if (paragraph) {
      // ActivityNet ships frames: <root>/<video without extension>/000001.jpg when the file is absent.
      std::string resolved = out.video_path(video);
      const std::string frames = out.video_path(fs::path(video).replace_extension().string());
      std::error_code error;  // a name too long for the file system is flagged by add(), not thrown here
      if (!fs::exists(resolved, error) && fs::is_directory(frames, error)) resolved = frames;
      out.add({resolved, join(sentences), -1, video, entry}, entry_of(entry, video));
    } else {
      for (const auto& s : sentences) out.add({out.video_path(video), s, -1, video, entry}, entry_of(entry, video));
    }
  }
}

}  // namespace

void read_msrvtt_json(const std::string& path, AnnotationBuilder& out) {
  read_sentence_dict(path, out, "msrvtt-json", false);
}

void read_didemo_json(const std::string& path, AnnotationBuilder& out) {
  read_sentence_dict(path, out, "didemo-json", true);
}

void read_vindlu_json(const std::string& path, AnnotationBuilder& out) {
  read_video_caption_list(path, out, "vindlu-json", false);
}

void read_paragraph_json(const std::string& path, AnnotationBuilder& out) {
  read_video_caption_list(path, out, "paragraph-json", true);
}

void read_lsmdc_json(const std::string& path, AnnotationBuilder& out) {
  const Json json = load_json_file(path);
  check_top_level(json, true, path, "lsmdc-json", "an object {\"video path\": \"text\"}");
  int64_t entry = 0;
  for (const auto& [key, value] : json.items()) {
    ++entry;
    if (!value.is_string()) {
      out.bad_row(entry, entry_of(entry, key), "expected a caption string, got a " + json_type(value));
      continue;
    }
    out.add({out.video_path(key), value.get<std::string>(), -1, key, entry}, entry_of(entry, key));
  }
}

void read_generic_jsonl(const std::string& path, AnnotationBuilder& out) {
  // Lines end at LF, CRLF or a lone CR (JSON strings cannot hold a raw CR, so no record is split).
  CsvReader reader(path);
  std::string line;
  while (reader.next_line(line)) {
    const int64_t number = reader.line();
    if (strip(line).empty()) continue;
    const std::string where = "line " + std::to_string(number);
    const std::string problem = io::json_text_problem(line);
    if (!problem.empty()) {
      out.bad_row(number, where, "not valid JSON: " + problem);
      continue;
    }
    Json item;
    try {
      item = Json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      out.bad_row(number, where, std::string("not valid JSON: ") + e.what());
      continue;
    }
    const bool has_text = item.is_object() && item.contains("caption") && item["caption"].is_string();
    if (!item.is_object() || !item.contains("video") || !item["video"].is_string() || !has_text) {
      out.bad_row(number, where, "expected {\"video\": string, \"caption\": string}, got " + io::quote_text(line));
      continue;
    }
    int64_t label = -1;
    if (item.contains("label")) {
      if (!item["label"].is_number_integer() || item["label"].get<int64_t>() < 0) {
        out.bad_row(number, where, "expected an integer \"label\" >= 0, got " + io::json_quote(item["label"]));
        continue;
      }
      label = item["label"].get<int64_t>();
    }
    const std::string video = item["video"].get<std::string>();
    const std::string id = item.contains("id") && item["id"].is_string() ? item["id"].get<std::string>() : video;
    out.add({out.video_path(video), item["caption"].get<std::string>(), label, id, number}, where);
  }
}

}  // namespace btadapter::data::detail
