#include "btadapter/data/video_check.h"

#include "btadapter/data/frame_sampling.h"
#include "btadapter/data/video_clip.h"

#include "btadapter/io/atomic_file.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace btadapter::data {

namespace {

struct Target {
  std::string video;
  int64_t row = 0;
};

// Distinct videos in annotation order, each with the first row naming it.
std::vector<Target> distinct_videos(const Annotations& annotations) {
  std::vector<Target> targets;
  std::unordered_map<std::string, size_t> seen;
  for (const auto& s : annotations.samples) {
    if (seen.emplace(s.video, targets.size()).second) targets.push_back({s.video, s.row});
  }
  return targets;
}

// Decodes the frames training would sample; fills `problem` unless the video is fine.
std::optional<VideoProblem> check_one(const Target& target, const VideoCheckOptions& options) {
  // A plain stat first: a missing file costs no reader and no exception (300k missing rows took > 60 s).
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::status(target.video, ec))) {
    return VideoProblem{"missing", target.video, target.row, 0, "no such file or folder"};
  }
  try {
    VideoReader reader(target.video, options.reader());
    DataRng rng(DataRng::mix({options.seed(), std::hash<std::string>{}(target.video)}));
    const DecodedFrames d =
        reader.read_sampled([&](int64_t n) { return uniform_sample_train(n, options.frames(), rng); });
    std::string short_by = too_short_reason(d.num_frames, options.frames());
    if (short_by.empty()) return std::nullopt;
    return VideoProblem{"too_short", target.video, target.row, d.num_frames, std::move(short_by)};
  } catch (const VideoError& e) {
    return VideoProblem{enum_name(e.kind()), target.video, target.row, 0, e.reason()};
  }
}

}  // namespace

VideoCheckReport check_videos(const Annotations& annotations, const VideoCheckOptions& options) {
  TORCH_CHECK(options.frames() >= 1 && options.threads() >= 1, "check_videos: expected frames >= 1 and threads >= 1, got ",
              options.frames(), " and ", options.threads());
  const std::vector<Target> targets = distinct_videos(annotations);
  std::vector<std::optional<VideoProblem>> results(targets.size());
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex mutex;
  std::condition_variable progressed;
  std::exception_ptr error;
  auto work = [&] {
    for (size_t i = next++; i < targets.size(); i = next++) {
      try {
        results[i] = check_one(targets[i], options);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        next = targets.size();  // stop every worker
      }
      ++done;
      progressed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < options.threads(); ++t) threads.emplace_back(work);
  {
    // Progress is reported from the calling thread, about every percent, and once at the end.
    std::unique_lock<std::mutex> lock(mutex);
    const auto total = static_cast<int64_t>(targets.size());
    int64_t reported = -1;
    while (done < total && !error) {
      progressed.wait_for(lock, std::chrono::milliseconds(200));
      if (options.progress() && done - reported >= std::max<int64_t>(1, total / 100)) {
        reported = done;
        options.progress()(reported, total);
      }
    }
    if (options.progress() && !error && reported < total) options.progress()(total, total);
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);

  VideoCheckReport report;
  report.bad_rows = static_cast<int64_t>(annotations.bad_rows.size());
  for (const auto& b : annotations.bad_rows) report.problems.push_back({"bad_row", "", b.row, 0, b.reason});
  report.total = static_cast<int64_t>(targets.size());
  for (auto& r : results) {
    if (!r) {
      ++report.ok;
      continue;
    }
    ++(r->status == "missing" ? report.missing : r->status == "corrupt" ? report.corrupt : report.too_short);
    report.problems.push_back(std::move(*r));
  }
  return report;
}

std::string video_check_summary_json(const VideoCheckReport& r) {
  nlohmann::ordered_json j{{"total", r.total},         {"ok", r.ok},
                           {"missing", r.missing},     {"corrupt", r.corrupt},
                           {"too_short", r.too_short}, {"bad_rows", r.bad_rows}};
  return j.dump();
}

void write_video_problems(const std::string& path, const VideoCheckReport& report) {
  std::string text;
  for (const auto& p : report.problems) {
    nlohmann::ordered_json j{{"status", p.status}, {"video", p.video}, {"row", p.row}, {"frames", p.frames},
                             {"reason", p.reason}};
    text += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  io::write_file_atomically(path, text);
}

}  // namespace btadapter::data
