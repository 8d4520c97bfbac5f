#pragma once
/// The machine-readable training log: one JSON object per line (JSONL), appended and flushed per record,
/// so a crashed run keeps everything up to its last step and a resumed run continues the same file.
/// Fields keep their insertion order; non-finite numbers are written as null (JSON has no NaN).
///
/// The training loop writes one record per logged step, e.g.
///   {"step":120,"epoch":0,"lr":2e-06,"loss":3.21,"vtc":2.95,"mbca":2.1,"mbta":0.52,"grad_norm":1.7,
///    "data_wait_s":0.012,"compute_s":0.84,"videos_per_s":416.3,"skipped":0}
/// A run that resumes from step S first calls truncate_log_after(path, S), so the steps it replays are
/// logged once and the file matches the state the run continues from.
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

/// What truncate_log_after() dropped.
struct LogTruncation {
  int64_t kept = 0;     ///< records kept
  int64_t dropped = 0;  ///< records with "step" > the resumed step
  int64_t torn = 0;     ///< lines that are not a JSON object (a write cut by kill -9)
};

/// Rewrites the log at `path` atomically with only the records whose integer "step" is at most
/// `last_step` (records without a step are kept; torn lines are dropped). A missing file, or one that
/// needs no change, is left alone. Throws c10::Error naming the file when it cannot be read or replaced.
LogTruncation truncate_log_after(const std::string& path, int64_t last_step);

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
