#include "btadapter/train/progress.h"

#include <c10/util/Exception.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace btadapter::train {
namespace {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<int64_t>(std::llround(seconds));
  const int64_t days = total / 86400;
  total %= 86400;
  char buffer[64];
  if (days > 0) {
    std::snprintf(buffer, sizeof(buffer), "%lldd %02lld:%02lld:%02lld", static_cast<long long>(days),
                  static_cast<long long>(total / 3600), static_cast<long long>(total / 60 % 60),
                  static_cast<long long>(total % 60));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  }
  return buffer;
}

ProgressReporter::ProgressReporter(ProgressOptions options, std::ostream& out, std::function<double()> clock)
    : options_(options), out_(out), clock_(clock ? std::move(clock) : steady_seconds) {
  TORCH_CHECK(options_.total_steps() >= 1, "ProgressReporter: total_steps must be >= 1, got ", options_.total_steps());
  TORCH_CHECK(options_.plain_every() >= 1, "ProgressReporter: plain_every must be >= 1, got ", options_.plain_every());
}

// Measured from the first update: nothing to say until a second one arrives.
std::string ProgressReporter::rate(int64_t step, double now) const {
  const double elapsed = now - start_time_;
  if (step <= first_step_ || elapsed <= 0) return "- videos/s";
  return fixed(static_cast<double>(videos_) / elapsed, 1) + " videos/s";
}

std::string ProgressReporter::eta(int64_t step, double now) const {
  const double elapsed = now - start_time_;
  if (step <= first_step_ || elapsed <= 0) return "ETA ?";
  const double left = static_cast<double>(options_.total_steps() - step) * elapsed / static_cast<double>(step - first_step_);
  return "ETA " + format_duration(std::max(left, 0.0));
}

std::string ProgressReporter::values_text(const ProgressUpdate& update) const {
  std::string text;
  for (const auto& [name, value] : update.values) text += "  " + name + " " + fixed(value, 3);
  return text;
}

void ProgressReporter::update(const ProgressUpdate& update) {
  const double now = clock_();
  if (!started_) {
    started_ = true;
    first_step_ = update.step;
    start_time_ = now;
  } else {
    videos_ += update.videos;
  }
  const int64_t total = options_.total_steps();
  const double fraction = std::min(1.0, static_cast<double>(update.step) / static_cast<double>(total));
  if (options_.bar()) {
    const auto filled = static_cast<size_t>(fraction * static_cast<double>(options_.bar_width()));
    std::string line = std::to_string(update.step) + "/" + std::to_string(total) + " [" + std::string(filled, '#') +
                       std::string(static_cast<size_t>(options_.bar_width()) - filled, '.') + "] " +
                       fixed(100.0 * fraction, 0) + "%  " + rate(update.step, now) + "  " + eta(update.step, now) +
                       values_text(update);
    const size_t width = line.size();
    if (width < last_width_) line += std::string(last_width_ - width, ' ');  // erase the previous tail
    last_width_ = width;
    out_ << '\r' << line << std::flush;
    drawn_ = true;
    return;
  }
  if (update.step % options_.plain_every() != 0 && update.step < total) return;
  out_ << "step " << update.step << "/" << total << " (" << fixed(100.0 * fraction, 1) << "%)  "
       << rate(update.step, now) << "  elapsed " << format_duration(now - start_time_) << "  "
       << eta(update.step, now) << values_text(update) << "\n"
       << std::flush;
}

void ProgressReporter::finish() {
  if (drawn_) out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace btadapter::train
