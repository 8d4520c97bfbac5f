#include "btadapter/train/jsonl_logger.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

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
