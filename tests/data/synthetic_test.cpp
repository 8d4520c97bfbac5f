// bt_make_synthetic: real H.264 files, readable annotations in the real formats, time-reversed pairs
// with opposite captions, shapes moving the stated way, and determinism for a seed.
#include "btadapter/data/annotations.h"
#include "btadapter/data/synthetic.h"
#include "btadapter/data/video_reader.h"

#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace btadapter::data;
using btadapter::testing::run_command;
using btadapter::testing::TempDir;
namespace fs = std::filesystem;

namespace {
std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json make(const fs::path& out, uint64_t seed) {
  const auto r = run_command(btadapter::testing::tool_path("bt_make_synthetic").string() + " --out " + out.string() +
                             " --train 4 --test 4 --frames 8 --size 32 --fps 8 --seed " + std::to_string(seed) +
                             " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(r.output.substr(r.output.rfind('{')));
}

torch::Tensor all_frames(const std::string& path) {
  VideoReader reader(path);
  std::vector<int64_t> idx(static_cast<size_t>(reader.num_frames()));
  std::iota(idx.begin(), idx.end(), 0);
  return reader.read(idx).to(torch::kFloat);
}

// Mean position (x, y) of the pixels that differ from the frame's corner (the background).
std::pair<double, double> centroid(const torch::Tensor& frame) {
  const auto mask = (frame - frame[0][0]).abs().sum(-1) > 60;
  const auto where = torch::nonzero(mask).to(torch::kDouble);
  return {where.select(1, 1).mean().item<double>(), where.select(1, 0).mean().item<double>()};
}
}  // namespace

TEST(Synthetic, WritesH264VideosInTheRealAnnotationFormats) {
  TempDir dir;
  const auto summary = make(dir.path(), 3);
  const auto train = read_annotations(summary["train_csv"], summary["train_format"],
                                      AnnotationOptions().root(summary["train_root"].get<std::string>()));
  const auto test = read_annotations(summary["test_json"], summary["test_format"],
                                     AnnotationOptions().root(summary["test_root"].get<std::string>()));
  ASSERT_EQ(train.samples.size(), 4u);
  ASSERT_EQ(test.samples.size(), 4u);
  for (const auto& s : train.samples) {
    EXPECT_TRUE(fs::exists(s.video)) << s.video;
    EXPECT_EQ(s.caption.rfind("a ", 0), 0u) << s.caption;
  }
  const auto probe = run_command("ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,nb_frames "
                                 "-of csv=p=0 '" + test.samples[0].video + "'");
  EXPECT_EQ(probe.output.substr(0, probe.output.find('\n')), "h264,32,8");
  // The direction sidecar pairs each test video with its reversal.
  const auto direction = nlohmann::json::parse(read_file(summary["direction_json"].get<std::string>()));
  ASSERT_EQ(direction["pairs"].size(), 2u);
  const auto& pair = direction["pairs"][0];
  const auto fwd = all_frames(summary["test_root"].get<std::string>() + "/" + pair["forward"].get<std::string>());
  const auto rev = all_frames(summary["test_root"].get<std::string>() + "/" + pair["reversed"].get<std::string>());
  EXPECT_LT((fwd - rev.flip(0)).abs().mean().item<double>(), 3.0);  // same frames, opposite order (lossy codec)
  EXPECT_GT((fwd[0] - rev[0]).abs().mean().item<double>(), 3.0);
  const std::string fc = pair["forward_caption"], rc = pair["reversed_caption"];
  EXPECT_EQ(fc.substr(0, fc.find(" from ")), rc.substr(0, rc.find(" from ")));
  EXPECT_NE(fc, rc);
  EXPECT_EQ(test.samples[0].caption, fc);
}

TEST(Synthetic, SameSeedSameDataAndOtherSeedOtherData) {
  TempDir a, b, c;
  make(a.path(), 5);
  make(b.path(), 5);
  make(c.path(), 6);
  EXPECT_EQ(read_file(a / "train.csv"), read_file(b / "train.csv"));
  EXPECT_EQ(read_file(a / "test.json"), read_file(b / "test.json"));
  EXPECT_TRUE(torch::equal(all_frames((a / "test_videos" / "video0.mp4").string()),
                           all_frames((b / "test_videos" / "video0.mp4").string())));
  EXPECT_NE(read_file(a / "test.json") + read_file(a / "train.csv"), read_file(c / "test.json") + read_file(c / "train.csv"));
}

TEST(Synthetic, ShapesMoveTheWayTheCaptionSays) {
  for (uint64_t seed = 0; seed < 12; ++seed) {
    const SyntheticClip clip = make_synthetic_clip(8, 64, seed);
    const auto [x0, y0] = centroid(clip.frames[0]);
    const auto [x1, y1] = centroid(clip.frames[7]);
    const std::string& c = clip.caption;
    if (c.find("from left to right") != std::string::npos) EXPECT_GT(x1 - x0, 20) << c;
    if (c.find("from right to left") != std::string::npos) EXPECT_LT(x1 - x0, -20) << c;
    if (c.find("from top to bottom") != std::string::npos) EXPECT_GT(y1 - y0, 20) << c;
    if (c.find("from bottom to top") != std::string::npos) EXPECT_LT(y1 - y0, -20) << c;
    EXPECT_EQ(clip.caption.substr(0, c.find(" from ")), clip.reversed_caption.substr(0, c.find(" from ")));
  }
}
