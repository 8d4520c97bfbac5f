// The annotation-format registry and the machinery shared by every reader.
#include "btadapter/data/annotations.h"

#include "annotation_builder.h"

#include <c10/util/Exception.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace btadapter::data {

namespace fs = std::filesystem;

namespace detail {

namespace {

std::vector<std::string> read_class_names(const std::string& path) {
  std::ifstream in(path);
  TORCH_CHECK(in.is_open(), "cannot open class-name file '", path, "'");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    const std::string name = strip(line);
    if (!name.empty()) names.push_back(name);
  }
  TORCH_CHECK(!names.empty(), "class-name file '", path, "' holds no names");
  return names;
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
  try {
    return nlohmann::ordered_json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    TORCH_CHECK(false, "annotation file '", path, "' is not valid JSON: ", e.what());
  }
}

AnnotationBuilder::AnnotationBuilder(const std::string& path, const std::string& format,
                                     const AnnotationOptions& options)
    : options_(options) {
  result_.path = path;
  result_.format = format;
  if (!options.class_names().empty()) result_.class_names = read_class_names(options.class_names());
}

void AnnotationBuilder::add(VideoTextSample sample) {
  sample.caption = strip(sample.caption);
  const auto classes = static_cast<int64_t>(result_.class_names.size());
  if (sample.label >= 0 && classes > 0 && sample.label >= classes) {
    std::ostringstream reason;
    reason << "expected a label below the " << classes << " classes of '" << options_.class_names() << "', got "
           << sample.label << " (0-based)";
    bad_row(sample.row, "line " + std::to_string(sample.row), reason.str());
    return;
  }
  result_.samples.push_back(std::move(sample));
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
  if (!path.has_extension() && !fs::is_directory(path)) path += ".mp4";
  return path.string();
}

}  // namespace btadapter::data
