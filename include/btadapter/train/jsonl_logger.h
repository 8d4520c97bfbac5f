#pragma once
/// The machine-readable training log: one JSON object per line (JSONL), appended and flushed per record,
/// so a crashed run keeps everything up to its last step and a resumed run continues the same file.
/// Fields keep their insertion order; non-finite numbers are written as null (JSON has no NaN).
///
/// The training loop writes one record per logged step, e.g.
///   {"step":120,"epoch":0,"lr":2e-06,"loss":3.21,"vtc":2.95,"mbca":2.1,"mbta":0.52,"grad_norm":1.7,
///    "data_wait_s":0.012,"compute_s":0.84,"videos_per_s":416.3,"skipped":0}
/// After a resume, records of steps beyond the checkpoint may appear twice; readers keep the last
/// record of each step.
///
/// Thread safety: write() locks an internal mutex.

#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace btadapter::train {

using LogValue = std::variant<int64_t, double, std::string, bool>;
/// Ordered (name, value) fields of one record.
using LogRecord = std::vector<std::pair<std::string, LogValue>>;

/// One record as a JSON line (without the newline).
std::string to_json_line(const LogRecord& record);

class JsonlLogger {
 public:
  /// Opens `path` for appending (parent folders are created); throws naming the path on failure.
  explicit JsonlLogger(std::string path);

  /// Appends one line and flushes it.
  void write(const LogRecord& record);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
  std::mutex mutex_;
};

}  // namespace btadapter::train
