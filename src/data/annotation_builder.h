#pragma once
// Internal: shared machinery of the annotation readers (collecting samples, bad-row policy, JSON
// loading) and the factories of the built-in formats.

#include "btadapter/data/annotations.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace btadapter::data::detail {

/// Collects the samples of one file and applies the bad-row policy.
class AnnotationBuilder {
 public:
  AnnotationBuilder(const std::string& path, const std::string& format, const AnnotationOptions& options);

  /// Adds a sample (caption stripped), or records a bad row at `where` ("line 3", "entry 2 ('x.mp4')") when
  /// its caption is empty without a label, its video name holds a NUL byte or is too long to be a path,
  /// or its label is not below the number of known class names.
  void add(VideoTextSample sample, const std::string& where);
  /// A malformed row: throws "<format> annotations '<path>' <where>: <reason>", or records it when skipping.
  void bad_row(int64_t row, const std::string& where, const std::string& reason);
  /// A note on a row that was kept (e.g. a last line without its line break), listed in Annotations::warnings.
  void warn(const std::string& where, const std::string& reason);
  /// resolve_video_path(root, name).
  std::string video_path(const std::string& name) const;
  const AnnotationOptions& options() const { return options_; }
  Annotations finish();

 private:
  Annotations result_;
  AnnotationOptions options_;
};

/// Parses a whole JSON file (keys in file order; depth bounded, nothing but whitespace after the
/// document, no NUL byte); throws naming the file and the parse position.
nlohmann::ordered_json load_json_file(const std::string& path);
/// "string", "number", "array", ... for messages.
std::string json_type(const nlohmann::ordered_json& value);
std::string strip(const std::string& text);

/// An AnnotationReader from a plain function.
using ReadFunction = void (*)(const std::string& path, AnnotationBuilder& out);
std::unique_ptr<AnnotationReader> make_function_reader(ReadFunction read, const std::string& format);

// Built-in formats (src/data/annotation_formats_*.cpp).
void read_webvid_2m(const std::string& path, AnnotationBuilder& out);
void read_webvid_10m(const std::string& path, AnnotationBuilder& out);
void read_msrvtt_csv(const std::string& path, AnnotationBuilder& out);
void read_lsmdc_csv(const std::string& path, AnnotationBuilder& out);
void read_kinetics_list(const std::string& path, AnnotationBuilder& out);
void read_ucf_hmdb_list(const std::string& path, AnnotationBuilder& out);
void read_generic_csv(const std::string& path, AnnotationBuilder& out);
void read_msrvtt_json(const std::string& path, AnnotationBuilder& out);
void read_vindlu_json(const std::string& path, AnnotationBuilder& out);
void read_paragraph_json(const std::string& path, AnnotationBuilder& out);
void read_didemo_json(const std::string& path, AnnotationBuilder& out);
void read_lsmdc_json(const std::string& path, AnnotationBuilder& out);
void read_generic_jsonl(const std::string& path, AnnotationBuilder& out);

}  // namespace btadapter::data::detail
