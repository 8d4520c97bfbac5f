// bt_check_videos end to end on a WebVid-format file with good, short, missing and corrupt videos and
// unreadable rows.
#include "btadapter/data/video_check.h"
#include "btadapter/data/video_writer.h"

#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

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
                                  " --frames 4 --threads 2 --out " + bad.string() + " 2>/dev/null");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(last_line(result.output),
            R"({"total":5,"ok":2,"missing":1,"corrupt":1,"too_short":1,"bad_rows":2})");
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
