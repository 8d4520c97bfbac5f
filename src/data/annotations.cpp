// The annotation-format registry and the machinery shared by every reader.
#include "btadapter/data/annotations.h"

#include "annotation_builder.h"

#include "btadapter/data/csv.h"
#include "btadapter/io/json_limits.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>

namespace btadapter::data {

namespace fs = std::filesystem;

namespace detail {

namespace {

std::vector<std::string> read_class_names(const std::string& path) {
  TORCH_CHECK(fs::is_regular_file(path), "cannot open class-name file '", path, "'");
  CsvReader in(path);  // lines end at LF, CRLF or a lone CR, as in the annotation files
  std::vector<std::string> names;
  std::string line;
  while (in.next_line(line)) {
    const std::string name = strip(line);
    if (!name.empty()) names.push_back(name);
  }
  TORCH_CHECK(!names.empty(), "class-name file '", path, "' holds no names");
  return names;
}

// Linux limits: NAME_MAX bytes per path component, PATH_MAX bytes in all.
std::string path_length_problem(const std::string& path) {
  constexpr size_t kMaxComponent = 255, kMaxPath = 4095;
  size_t begin = 0;
  while (begin <= path.size()) {
    const size_t end = std::min(path.find('/', begin), path.size());
    if (end - begin > kMaxComponent) {
      return "a component of the video path is " + std::to_string(end - begin) +
             " bytes, longer than a file name may be (" + std::to_string(kMaxComponent) + "): '" +
             io::quote_text(path.substr(begin, end - begin)) + "'";
    }
    begin = end + 1;
  }
  if (path.size() > kMaxPath) {
    return "the video path is " + std::to_string(path.size()) + " bytes, longer than a path may be (" +
           std::to_string(kMaxPath) + "): '" + io::quote_text(path) + "'";
  }
  return "";
}

class FunctionReader : public AnnotationReader {
 public:
  FunctionReader(ReadFunction read, std::string format) : read_(read), format_(std::move(format)) {}
  Annotations read(const std::string& path, const AnnotationOptions& options) const override {
    AnnotationBuilder builder(path, format_, options);
    read_(path, builder);
    return builder.finish();
  }

 private:
  ReadFunction read_;
  std::string format_;
};

}  // namespace

std::string strip(const std::string& text) {
  const char* space = " \t\r\n\f\v";
  const size_t begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(space) - begin + 1);
}

std::string json_type(const nlohmann::ordered_json& value) { return value.type_name(); }

nlohmann::ordered_json load_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in.is_open(), "cannot open annotation file '", path, "'");
  // Read whole: the bounded parser scans the text for depth and NUL bytes before parsing it.
  const std::string text(std::istreambuf_iterator<char>(in), {});
  TORCH_CHECK(!in.bad(), "cannot read annotation file '", path, "'");
  return io::parse_ordered_json_bounded(text, "annotation file '" + path + "' is not valid JSON");
}

AnnotationBuilder::AnnotationBuilder(const std::string& path, const std::string& format,
                                     const AnnotationOptions& options)
    : options_(options) {
  result_.path = path;
  result_.format = format;
  if (!options.class_names().empty()) result_.class_names = read_class_names(options.class_names());
}

void AnnotationBuilder::add(VideoTextSample sample, const std::string& where) {
  sample.caption = strip(sample.caption);
  if (sample.caption.empty() && sample.label < 0) {
    bad_row(sample.row, where, "empty caption");
    return;
  }
  // Opening "a\0b" would open "a"; a name longer than the file system allows fails every later stat.
  if (sample.video.find('\0') != std::string::npos || sample.id.find('\0') != std::string::npos) {
    bad_row(sample.row, where, "the video name holds a NUL character: '" + io::quote_text(sample.id) + "'");
    return;
  }
  if (const std::string too_long = path_length_problem(sample.video); !too_long.empty()) {
    bad_row(sample.row, where, too_long);
    return;
  }
  const auto classes = static_cast<int64_t>(result_.class_names.size());
  if (sample.label >= 0 && classes > 0 && sample.label >= classes) {
    std::ostringstream reason;
    reason << "expected a label below the " << classes << " classes of '" << options_.class_names() << "', got "
           << sample.label << " (0-based)";
    bad_row(sample.row, where, reason.str());
    return;
  }
  result_.samples.push_back(std::move(sample));
}

void AnnotationBuilder::warn(const std::string& where, const std::string& reason) {
  result_.warnings.push_back(result_.format + " annotations '" + result_.path + "' " + where + ": " + reason);
}

void AnnotationBuilder::bad_row(int64_t row, const std::string& where, const std::string& reason) {
  std::string message = result_.format + " annotations '" + result_.path + "' " + where + ": " + reason;
  TORCH_CHECK(options_.skip_bad_rows(), message);
  result_.bad_rows.push_back({row, std::move(message)});
}

std::string AnnotationBuilder::video_path(const std::string& name) const {
  return resolve_video_path(options_.root(), name);
}

Annotations AnnotationBuilder::finish() { return std::move(result_); }

std::unique_ptr<AnnotationReader> make_function_reader(ReadFunction read, const std::string& format) {
  return std::make_unique<FunctionReader>(read, format);
}

}  // namespace detail

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, AnnotationReaderFactory> factories;
};

Registry& registry() {
  static Registry* instance = [] {
    auto* r = new Registry();  // never destroyed: readers may be made during static destruction
    const std::pair<const char*, detail::ReadFunction> builtins[] = {
        {"webvid", detail::read_webvid_2m},         {"webvid10m", detail::read_webvid_10m},
        {"msrvtt-json", detail::read_msrvtt_json},  {"msrvtt-csv", detail::read_msrvtt_csv},
        {"vindlu-json", detail::read_vindlu_json},  {"paragraph-json", detail::read_paragraph_json},
        {"anet-json", detail::read_paragraph_json}, {"didemo-json", detail::read_didemo_json},
        {"lsmdc-json", detail::read_lsmdc_json},    {"lsmdc-csv", detail::read_lsmdc_csv},
        {"k400", detail::read_kinetics_list},       {"ucf101", detail::read_ucf_hmdb_list},
        {"hmdb51", detail::read_ucf_hmdb_list},     {"jsonl", detail::read_generic_jsonl},
        {"csv", detail::read_generic_csv},
    };
    for (const auto& [name, read] : builtins) {
      r->factories[name] = [read = read, format = std::string(name)] {
        return detail::make_function_reader(read, format);
      };
    }
    return r;
  }();
  return *instance;
}

std::string joined_formats() {
  std::string out;
  for (const auto& name : annotation_formats()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

std::unique_ptr<AnnotationReader> make_annotation_reader(const std::string& format) {
  AnnotationReaderFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry().mutex);
    const auto it = registry().factories.find(format);
    if (it != registry().factories.end()) factory = it->second;
  }
  TORCH_CHECK(factory, "unknown annotation format '", format, "'; known formats: ", joined_formats());
  return factory();
}

std::vector<std::string> annotation_formats() {
  std::lock_guard<std::mutex> lock(registry().mutex);
  std::vector<std::string> names;
  for (const auto& entry : registry().factories) names.push_back(entry.first);
  return names;
}

void register_annotation_format(const std::string& format, AnnotationReaderFactory factory) {
  TORCH_CHECK(!format.empty() && factory, "register_annotation_format: expected a name and a factory");
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().factories[format] = std::move(factory);
}

Annotations read_annotations(const std::string& path, const std::string& format, const AnnotationOptions& options) {
  Annotations result = make_annotation_reader(format)->read(path, options);
  result.format = format;
  return result;
}

std::string resolve_video_path(const std::string& root, const std::string& name) {
  fs::path path = root.empty() ? fs::path(name) : fs::path(root) / name;
  std::error_code error;  // an unusable name (too long, ...) is not a folder; the readers flag it
  if (!path.has_extension() && !fs::is_directory(path, error)) path += ".mp4";
  return path.string();
}

}  // namespace btadapter::data
