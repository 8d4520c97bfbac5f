// bt_make_synthetic: write a small video-text dataset of real H.264 videos (moving coloured shapes in
// time-reversed pairs) with WebVid-format train and MSR-VTT-format test annotations.
#include "btadapter/data/synthetic.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <iostream>

int main(int argc, char** argv) {
  using namespace btadapter::data;
  CLI::App app{"Write a synthetic video-text dataset (moving shapes, time-reversed pairs)"};
  SyntheticOptions options("");
  std::string out;
  int64_t train = options.train_videos(), test = options.test_videos(), frames = options.frames(),
          size = options.size();
  double fps = options.fps();
  uint64_t seed = options.seed();
  app.add_option("--out", out, "output folder")->required();
  app.add_option("--train", train, "training videos (even)")->capture_default_str();
  app.add_option("--test", test, "test videos (even)")->capture_default_str();
  app.add_option("--frames", frames, "frames per video")->capture_default_str();
  app.add_option("--size", size, "width and height in pixels (even)")->capture_default_str();
  app.add_option("--fps", fps, "frames per second")->capture_default_str();
  app.add_option("--seed", seed, "seed of every random choice")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_make_synthetic", [&] {
    options.out_dir(out).train_videos(train).test_videos(test).frames(frames).size(size).fps(fps).seed(seed);
    const SyntheticDataset d = make_synthetic_dataset(options, [](int64_t done, int64_t total) {
      std::cerr << "\rwrote " << done << "/" << total << " videos" << std::flush;
    });
    std::cerr << "\n";
    const nlohmann::ordered_json summary{
        {"train_csv", d.train_csv},     {"train_format", "webvid"},      {"train_root", d.train_root},
        {"test_json", d.test_json},     {"test_format", "msrvtt-json"},  {"test_root", d.test_root},
        {"direction_json", d.direction_json}, {"train_videos", d.train_videos}, {"test_videos", d.test_videos},
        {"test_pairs", d.test_pairs}};
    std::cout << summary.dump() << std::endl;
    return 0;
  });
}
