#pragma once
/// Training progress for humans: an in-place bar with rate, ETA and current losses on a terminal, plain
/// lines every few steps otherwise (log files, SLURM output). Machine-readable records go to the JSONL
/// log (jsonl_logger.h).
///
///   bar:    "  120/6000 [#.............................]   2%  416.3 videos/s  ETA 1:02:03  loss 3.210 vtc 2.950"
///   plain:  "step 120/6000 (2.0%)  416.3 videos/s  elapsed 0:00:17  ETA 1:02:03  loss 3.210 vtc 2.950"
///   (the bar's percentage is rounded to whole percents)
///
/// The rate and the ETA are measured from the first update (so a resumed run, or a slow first step,
/// does not skew them).
///
/// Thread safety: one thread calls update()/finish().

#include <torch/arg.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace btadapter::train {

/// Whether standard error is a terminal (where the bar belongs).
bool stderr_is_terminal();

struct ProgressOptions {
  explicit ProgressOptions(int64_t total_steps) : total_steps_(total_steps) {}
  /// Steps of the whole run (the bar's 100%); required.
  TORCH_ARG(int64_t, total_steps);
  /// Redraw one line in place (true) or print plain lines (false); default stderr_is_terminal().
  TORCH_ARG(bool, bar) = stderr_is_terminal();
  /// Steps between plain lines (the last step always prints); default 10.
  TORCH_ARG(int64_t, plain_every) = 10;
  /// Characters inside the bar's brackets; default 30.
  TORCH_ARG(int64_t, bar_width) = 30;
};

/// What happened up to now.
struct ProgressUpdate {
  int64_t step = 0;     ///< steps completed, including resumed ones
  int64_t videos = 0;   ///< clips processed by the step(s) since the last update, all ranks together
  std::vector<std::pair<std::string, double>> values;  ///< shown as "name value", e.g. {"loss", 3.21}
};

/// "0:04:05", "1:02:03", "3d 04:05:06"; "?" for negative or non-finite input.
std::string format_duration(double seconds);

class ProgressReporter {
 public:
  /// `clock` returns seconds from any fixed origin (default: a steady clock); tests inject one.
  ProgressReporter(ProgressOptions options, std::ostream& out, std::function<double()> clock = {});

  void update(const ProgressUpdate& update);
  /// Ends the bar's line (no-op for plain lines).
  void finish();

 private:
  std::string rate(int64_t step, double now) const;
  std::string eta(int64_t step, double now) const;
  std::string values_text(const ProgressUpdate& update) const;

  ProgressOptions options_;
  std::ostream& out_;
  std::function<double()> clock_;
  bool started_ = false;
  int64_t first_step_ = 0;
  double start_time_ = 0;
  int64_t videos_ = 0;
  size_t last_width_ = 0;
  bool drawn_ = false;
};

}  // namespace btadapter::train
