// bt_check_videos: open every video an annotation file names, decode the frames training would
// sample, and summarise what is missing, corrupt or short. The JSON summary is the last line of stdout.
#include "btadapter/data/video_check.h"
#include "btadapter/train/progress.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <algorithm>
#include <iostream>

int main(int argc, char** argv) {
  using namespace btadapter::data;
  CLI::App app{"Check that every video of an annotation file decodes as training needs it"};
  std::string annotations, format, root, class_names, out;
  VideoCheckOptions options;
  int64_t frames = options.frames(), threads = options.threads();
  app.add_option("--annotations", annotations, "annotation file")->required();
  app.add_option("--format", format, "annotation format, one of: " + [] {
    std::string names;
    for (const auto& n : annotation_formats()) names += (names.empty() ? "" : ", ") + n;
    return names;
  }())->required();
  app.add_option("--root", root, "folder the video names are relative to");
  app.add_option("--frames", frames, "frames sampled per video, as in training")->capture_default_str();
  app.add_option("--threads", threads, "decoding threads")->capture_default_str();
  app.add_option("--out", out, "write one JSON line per bad row or video here");
  app.add_option("--class-names", class_names, "class-name file (recognition lists)");
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_check_videos", [&] {
    const Annotations a =
        read_annotations(annotations, format, AnnotationOptions().root(root).skip_bad_rows(true).class_names(class_names));
    std::cerr << "read " << a.samples.size() << " usable rows (" << a.bad_rows.size() << " bad) from " << annotations << "\n";
    // A terminal gets one line redrawn in place; a log file or pipe a plain line per tenth.
    const bool terminal = btadapter::train::stderr_is_terminal();
    int64_t last_tenth = -1;
    options.frames(frames).threads(threads).progress([&](int64_t done, int64_t total) {
      if (terminal) {
        std::cerr << "\rchecked " << done << "/" << total << " videos" << std::flush;
      } else if (const int64_t tenth = done * 10 / std::max<int64_t>(total, 1); tenth > last_tenth) {
        last_tenth = tenth;
        std::cerr << "checked " << done << "/" << total << " videos" << std::endl;
      }
    });
    const VideoCheckReport report = check_videos(a, options);
    if (terminal) std::cerr << "\n";
    if (!out.empty()) write_video_problems(out, report);
    std::cout << video_check_summary_json(report) << std::endl;
    return 0;
  });
}
