#include "btadapter/train/jsonl_logger.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include "btadapter/io/atomic_file.h"
#include "btadapter/io/json_limits.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace btadapter::train {

std::string to_json_line(const LogRecord& record) {
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  for (const auto& [name, value] : record) {
    std::visit(
        [&, key = name](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, double>) {
            line[key] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
          } else {
            line[key] = v;
          }
        },
        value);
  }
  return line.dump();
}

namespace {

enum class LineFate { kKeep, kDrop, kTorn };

LineFate fate_of(const std::string& line, int64_t last_step) {
  if (!io::json_text_problem(line).empty()) return LineFate::kTorn;
  const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) return LineFate::kTorn;
  const auto step = record.find("step");
  if (step == record.end() || !step->is_number_integer()) return LineFate::kKeep;
  return step->get<int64_t>() <= last_step ? LineFate::kKeep : LineFate::kDrop;
}

}  // namespace

LogTruncation truncate_log_after(const std::string& path, int64_t last_step) {
  LogTruncation result;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return result;  // a fresh run has no log yet
  std::ostringstream kept;
  std::string line;
  bool ends_with_newline = true;
  while (std::getline(in, line)) {
    ends_with_newline = !in.eof();
    if (line.empty()) continue;
    switch (fate_of(line, last_step)) {
      case LineFate::kKeep:
        ++result.kept;
        kept << line << '\n';
        break;
      case LineFate::kDrop: ++result.dropped; break;
      case LineFate::kTorn: ++result.torn; break;
    }
  }
  TORCH_CHECK(!in.bad(), "cannot read log file '", path, "'");
  // A last line without its newline would be glued to the next record: rewrite then too.
  if (result.dropped > 0 || result.torn > 0 || !ends_with_newline) io::write_file_atomically(path, kept.str());
  return result;
}

JsonlLogger::JsonlLogger(std::string path) : path_(std::move(path)) {
  const std::filesystem::path file(path_);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  out_.open(path_, std::ios::app);
  TORCH_CHECK(out_, "cannot open log file '", path_, "' for appending: ", std::strerror(errno));
}

void JsonlLogger::write(const LogRecord& record) {
  const std::string line = to_json_line(record);
  std::lock_guard<std::mutex> lock(mutex_);
  out_ << line << '\n' << std::flush;
  TORCH_CHECK(out_, "writing log file '", path_, "' failed (disk full?)");
}

}  // namespace btadapter::train
