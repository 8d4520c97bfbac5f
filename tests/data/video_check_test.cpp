// bt_check_videos end to end on a WebVid-format file with good, short, missing and corrupt videos and
// unreadable rows.
#include "btadapter/data/loader.h"
#include "btadapter/data/video_check.h"
#include "btadapter/data/video_writer.h"

#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

using namespace btadapter::data;
using btadapter::testing::run_command;
using btadapter::testing::TempDir;
using btadapter::testing::tool_path;
namespace fs = std::filesystem;

namespace {
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

// root/001_050/{100,101}.mp4 fine, 102 has 3 frames, 103 is missing, 104 is not a video; 101 is named
// twice (checked once); two rows cannot be read.
std::string make_dataset(const TempDir& dir) {
  fs::create_directories(dir / "root" / "001_050");
  const auto video = [&](const std::string& id, int64_t frames) {
    write_video((dir / "root" / "001_050" / (id + ".mp4")).string(), torch::full({frames, 32, 32, 3}, 90, torch::kUInt8));
  };
  video("100", 8);
  video("101", 8);
  video("102", 3);
  std::ofstream(dir / "root" / "001_050" / "104.mp4") << "garbage";
  const fs::path csv = dir / "train.csv";
  std::ofstream(csv) << "videoid,name,page_idx,page_dir,duration,contentUrl\n"
                        "100,a cat,1,001_050,PT00H00M01S,u\n"
                        "101,a dog,1,001_050,PT00H00M01S,u\n"
                        "101,\"a dog, again\",1,001_050,PT00H00M01S,u\n"
                        "102,short,1,001_050,PT00H00M01S,u\n"
                        "103,gone,1,001_050,PT00H00M01S,u\n"
                        "104,broken,1,001_050,PT00H00M01S,u\n"
                        "105,too few columns\n"
                        "106,no page dir,1,,PT00H00M01S,u\n";
  return csv.string();
}
}  // namespace

TEST(VideoCheck, ToolPrintsTheSummaryAndListsEveryProblem) {
  TempDir dir;
  const std::string csv = make_dataset(dir);
  const fs::path bad = dir / "bad.jsonl";
  const auto result = run_command(tool_path("bt_check_videos").string() + " --annotations " + csv +
                                  " --format webvid --root " + (dir / "root").string() +
                                  " --frames 4 --threads 2 --out " + bad.string() + " 2>&1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(last_line(result.output),
            R"({"total":5,"ok":2,"missing":1,"corrupt":1,"too_short":1,"bad_rows":2})");
  // stderr is a pipe here: plain progress lines, no carriage returns.
  EXPECT_NE(result.output.find("read 6 usable rows (2 bad) from " + csv + "\n"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("checked 5/5 videos\n"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find('\r'), std::string::npos) << result.output;
  std::ifstream in(bad);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["status"], "bad_row");
  EXPECT_EQ(lines[0]["row"], 8);
  EXPECT_NE(lines[0]["reason"].get<std::string>().find("expected 6 columns"), std::string::npos);
  EXPECT_EQ(lines[1]["reason"].get<std::string>().find("webvid annotations"), 0u);
  EXPECT_EQ(lines[2]["status"], "too_short");
  EXPECT_EQ(lines[2]["frames"], 3);
  EXPECT_EQ(lines[3]["status"], "missing");
  EXPECT_NE(lines[3]["video"].get<std::string>().find("103.mp4"), std::string::npos);
  EXPECT_EQ(lines[4]["status"], "corrupt");
  EXPECT_EQ(lines[4]["row"], 7);
}

TEST(VideoCheck, ToolRejectsUnknownFormatsNamingTheKnownOnes) {
  TempDir dir;
  const auto result = run_command(tool_path("bt_check_videos").string() + " --annotations x --format webvid2m 2>&1");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("unknown annotation format 'webvid2m'"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("msrvtt-json"), std::string::npos) << result.output;
}

TEST(VideoCheck, LibraryChecksFrameFoldersAndImagesToo) {
  TempDir dir;
  fs::create_directories(dir / "frames");
  for (int i = 1; i <= 5; ++i) {
    write_image((dir / "frames" / ("00000" + std::to_string(i) + ".jpg")).string(), torch::full({16, 16, 3}, 50, torch::kUInt8));
  }
  write_image((dir / "still.png").string(), torch::full({16, 16, 3}, 50, torch::kUInt8));
  Annotations a;
  a.samples = {{(dir / "frames").string(), "x", -1, "f", 1}, {(dir / "still.png").string(), "y", -1, "s", 2}};
  int64_t reported = 0;
  const auto report = check_videos(a, VideoCheckOptions().frames(4).progress([&](int64_t done, int64_t) { reported = done; }));
  EXPECT_EQ(report.total, 2);
  EXPECT_EQ(report.ok, 1);
  EXPECT_EQ(report.too_short, 1);  // an image is one frame
  EXPECT_EQ(report.problems.at(0).video, (dir / "still.png").string());
}

// Missing files are found by a stat (no reader, no exception): 20k missing rows, in annotation order,
// each once, with a final progress report of all of them.
TEST(VideoCheck, ManyMissingVideosAreCountedInOrder) {
  TempDir dir;
  Annotations a;
  const int kRows = 20000;
  for (int i = 0; i < kRows; ++i) {
    const std::string video = (dir / ("v" + std::to_string(i / 2) + ".mp4")).string();  // each named twice
    a.samples.push_back({video, "caption", -1, "v", i + 1});
  }
  std::pair<int64_t, int64_t> last{-1, -1};
  const auto report =
      check_videos(a, VideoCheckOptions().threads(2).progress([&](int64_t done, int64_t total) { last = {done, total}; }));
  EXPECT_EQ(report.total, kRows / 2);
  EXPECT_EQ(report.missing, kRows / 2);
  EXPECT_EQ(report.ok + report.corrupt + report.too_short, 0);
  EXPECT_EQ(last, (std::pair<int64_t, int64_t>(kRows / 2, kRows / 2)));
  ASSERT_EQ(report.problems.size(), static_cast<size_t>(kRows / 2));
  EXPECT_EQ(report.problems[1].row, 3);
  EXPECT_EQ(report.problems[1].reason, "no such file or folder");
}

// bt_check_videos and the loader under --skip-bad-videos (kSkip) apply one rule: what the check calls
// missing or corrupt is skipped, what it calls too short is used (frames repeat) and reported by the
// loader with the check's reason, once per video.
TEST(VideoCheck, CheckAndSkippingLoaderAgree) {
  TempDir dir;
  const Annotations a = read_annotations(make_dataset(dir), "webvid",
                                         AnnotationOptions().root((dir / "root").string()).skip_bad_rows(true));
  const auto report = check_videos(a, VideoCheckOptions().frames(4));
  auto dataset = std::make_shared<const VideoTextDataset>(a, ClipOptions(4, 32));
  std::vector<std::string> log;
  VideoTextLoader loader(dataset, LoaderOptions(2).shuffle(false).drop_last(false).bad_video(BadVideoPolicy::kSkip).log(
                                      [&](const std::string& line) { log.push_back(line); }));
  std::set<std::string> used, skipped;
  while (auto batch = loader.next()) {
    for (int64_t i = 0; i < batch->indices.size(0); ++i) used.insert(a.samples[batch->indices[i].item<int64_t>()].video);
  }
  // The loader's list, not each batch's: a batch whose items were all skipped is never handed out.
  for (const auto& s : loader.skipped()) skipped.insert(s.video);
  int64_t short_seen = 0;
  for (const auto& p : report.problems) {
    if (p.status == "bad_row") continue;
    EXPECT_EQ(skipped.count(p.video), p.status == "too_short" ? 0u : 1u) << p.status << " " << p.video;
    EXPECT_EQ(used.count(p.video), p.status == "too_short" ? 1u : 0u) << p.status << " " << p.video;
    if (p.status != "too_short") continue;
    ++short_seen;
    const std::string line = "data: '" + p.video + "' is too short: " + p.reason + " (its frames repeat)";
    EXPECT_EQ(std::count(log.begin(), log.end(), line), 1) << line;
  }
  EXPECT_EQ(short_seen, 1);
  EXPECT_EQ(loader.stats().too_short, report.too_short);
  EXPECT_EQ(loader.stats().missing, report.missing);
  EXPECT_EQ(loader.stats().corrupt, report.corrupt);
  EXPECT_EQ(static_cast<int64_t>(used.size()), report.ok + report.too_short);
}
