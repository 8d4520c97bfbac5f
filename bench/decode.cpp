// Decode benchmark: clips per second per core for 8 frames at 224 from 360p H.264 clips of 10 s,
// per decoding strategy (grab forward / always seek / the default rule), and loader throughput with 1
// and 2 worker threads. Clips are generated with ffmpeg (testsrc2 plus temporal noise, so the bitrate
// resembles real footage). Prints one JSON object. Its "parsers" entry (alone with --parsers-only, no
// ffmpeg needed) times the annotation side of a 300k-video dataset: an MSR-VTT-style JSON of 40k and
// 300k keys, and bt_check_videos' pass over 300k missing videos.
#include "btadapter/data/loader.h"
#include "btadapter/data/video_check.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <sched.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace btadapter::data;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double rss_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// 640x360, 30 fps, `seconds` long, x264 at its defaults except the keyframe interval.
std::vector<std::string> make_clips(const fs::path& dir, int count, int seconds, int keyint) {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    const fs::path p = dir / ("k" + std::to_string(keyint) + "_" + std::to_string(i) + ".mp4");
    if (!fs::exists(p)) {
      const std::string cmd = "ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 -t " + std::to_string(seconds) +
                              " -vf noise=alls=6:allf=t,hue=h=" + std::to_string(i * 40) +
                              " -c:v libx264 -preset veryfast -g " + std::to_string(keyint) + " -pix_fmt yuv420p '" +
                              p.string() + "'";
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("ffmpeg failed: " + cmd);
    }
    paths.push_back(p.string());
  }
  return paths;
}

// Single-thread clips per second through load_clip (decode 8 frames + train or eval transform to 224).
double clips_per_second(const std::vector<std::string>& clips, const ClipOptions& options, int rounds) {
  const auto start = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < clips.size(); ++i) load_clip(clips[i], options, DataRng::mix({uint64_t(r), i}));
  }
  return static_cast<double>(rounds * clips.size()) / seconds_since(start);
}

nlohmann::ordered_json strategy_table(const std::vector<std::string>& clips, bool train, int rounds) {
  nlohmann::ordered_json out;
  const std::pair<const char*, int64_t> strategies[] = {
      {"grab_forward", INT64_MAX}, {"always_seek", 0}, {"default_rule", VideoReaderOptions().seek_min_gap()}};
  for (const auto& [name, gap] : strategies) {
    auto options = ClipOptions(8, 224).train(train).reader(VideoReaderOptions().seek_min_gap(gap));
    out[name] = clips_per_second(clips, options, rounds);
  }
  return out;
}

// Loader throughput (clips per second, batches of 4) and resident memory after each epoch.
nlohmann::ordered_json loader_run(const std::vector<std::string>& clips, int64_t workers, int epochs) {
  Annotations a;
  for (size_t i = 0; i < clips.size(); ++i) a.samples.push_back({clips[i], "c", -1, std::to_string(i), int64_t(i) + 1});
  auto dataset = std::make_shared<const VideoTextDataset>(a, ClipOptions(8, 224).train(true));
  const auto batch = std::min<int64_t>(4, static_cast<int64_t>(clips.size()));
  VideoTextLoader loader(dataset, LoaderOptions(batch).num_workers(workers).prefetch_batches(2));
  int64_t clips_done = 0;
  std::vector<double> rss;
  const auto start = Clock::now();
  for (int e = 0; e < epochs; ++e) {
    while (auto batch = loader.next()) clips_done += batch->video.size(0);
    rss.push_back(rss_mb());
  }
  return {{"workers", workers},
          {"clips_per_s", static_cast<double>(clips_done) / seconds_since(start)},
          {"rss_mb_after_each_epoch", rss}};
}

// read_annotations on an MSR-VTT-style JSON of `keys` videos, then check_videos on them (all missing).
nlohmann::ordered_json parser_run(const std::string& dir, int64_t keys) {
  const std::string path = (fs::path(dir) / ("msrvtt_" + std::to_string(keys) + ".json")).string();
  {
    std::ofstream out(path);
    out << '{';
    for (int64_t i = 0; i < keys; ++i) out << (i ? "," : "") << "\"video" << i << "\": [\"a caption\", \"another\"]";
    out << '}';
  }
  auto start = Clock::now();
  const Annotations a = read_annotations(path, "msrvtt-json", AnnotationOptions().root(dir + "/missing"));
  const double parse = seconds_since(start);
  start = Clock::now();
  const VideoCheckReport report = check_videos(a, VideoCheckOptions().threads(2));
  const double check = seconds_since(start);
  fs::remove(path);
  if (report.missing != keys) throw std::runtime_error("expected every video to be missing");
  return {{"keys", keys},
          {"msrvtt_json_parse_s", parse},
          {"keys_per_s", static_cast<double>(keys) / parse},
          {"check_missing_s", check},
          {"missing_rows_per_s", static_cast<double>(keys) / check}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Video decoding benchmark (prints JSON)"};
  std::string dir = (fs::temp_directory_path() / "btadapter_bench_decode").string();
  int count = 8, seconds = 10, rounds = 2, epochs = 4;
  app.add_option("--dir", dir, "where the generated clips are kept")->capture_default_str();
  app.add_option("--clips", count, "clips per keyframe setting")->capture_default_str();
  app.add_option("--seconds", seconds, "clip length")->capture_default_str();
  app.add_option("--rounds", rounds, "passes over the clips per measurement")->capture_default_str();
  app.add_option("--epochs", epochs, "loader epochs (memory check)")->capture_default_str();
  bool pin = false, parsers_only = false;
  app.add_flag("--parsers-only", parsers_only, "only the annotation parsing and missing-video lines");
  app.add_flag("--pin-one-core", pin, "measure the strategies on CPU 0 only (per-core figures); the loader still uses every core");
  CLI11_PARSE(app, argc, argv);
  try {
    // Pinning this thread also pins the decoder threads FFmpeg starts from it (and OpenCV sizes that pool
    // by the affinity mask); the loader runs afterwards with the original mask.
    cpu_set_t original;
    sched_getaffinity(0, sizeof(original), &original);
    if (pin) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(0, &one);
      if (sched_setaffinity(0, sizeof(one), &one) != 0) throw std::runtime_error("sched_setaffinity failed");
    }
    fs::create_directories(dir);
    nlohmann::ordered_json result;
    result["parsers"] = {parser_run(dir, 40000), parser_run(dir, 300000)};
    if (parsers_only) {
      std::cout << result.dump() << std::endl;
      return 0;
    }
    result["setup"] = {{"video", "640x360 30 fps H.264 (x264 veryfast), testsrc2 + temporal noise (about 0.9 Mbit/s)"},
                       {"seconds", seconds},
                       {"clips", count},
                       {"frames", 8},
                       {"size", 224},
                       {"unit", "clips per second through load_clip on one thread (one core with --pin-one-core)"},
                       {"pinned_to_one_core", pin},
                       {"hardware_threads", std::thread::hardware_concurrency()}};
    for (const int keyint : {250, 30}) {
      const auto clips = make_clips(dir, count, seconds, keyint);
      nlohmann::ordered_json entry;
      entry["train_8_frames"] = strategy_table(clips, true, rounds);
      entry["eval_8_frames"] = strategy_table(clips, false, rounds);
      result["keyint_" + std::to_string(keyint)] = entry;
    }
    sched_setaffinity(0, sizeof(original), &original);
    const auto clips = make_clips(dir, count, seconds, 250);
    result["loader"] = {loader_run(clips, 1, epochs), loader_run(clips, 2, epochs)};
    std::cout << result.dump() << std::endl;
    return 0;
  } catch (const c10::Error& e) {
    std::cerr << "bench_decode: " << e.what_without_backtrace() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bench_decode: " << e.what() << std::endl;
    return 1;
  }
}
