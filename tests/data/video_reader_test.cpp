// Decoding: exact frames by grab and by seek (H.264 with B-frames and short GOPs), wrong or missing
// frame counts, frame folders, single images, and every kind of bad file.
#include "btadapter/data/frame_sampling.h"
#include "btadapter/data/video_reader.h"
#include "btadapter/data/video_writer.h"

#include "support/test_support.h"
#include "video_fixtures.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace btadapter::data;
using btadapter::testing::coded_frames;
using btadapter::testing::decode_codes;
using btadapter::testing::expect_error;
using btadapter::testing::TempDir;
using Indices = std::vector<int64_t>;
namespace fs = std::filesystem;

namespace {
std::string write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

// A VideoError's message reads "<kind> video '<path>': <reason>", so its text shows the kind.
void expect_video_error(const std::function<void()>& f, VideoErrorKind kind, const std::string& needle,
                        const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  expect_error(f, {std::string(btadapter::enum_name(kind)) + " video '", needle}, file, line);
}
}  // namespace

TEST(VideoReader, OpenCvWritesH264ThatReadsBackFrameExact) {
  TempDir dir;
  const std::string path = (dir / "coded.mp4").string();
  write_video(path, coded_frames(40), VideoWriterOptions().fps(25));
  const auto probe = btadapter::testing::run_command(
      "ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 '" + path + "'");
  EXPECT_EQ(probe.exit_code, 0);
  EXPECT_EQ(probe.output.substr(0, 4), "h264");
  VideoReader reader(path);
  EXPECT_EQ(reader.num_frames(), 40);
  const Indices wanted = {0, 5, 39, 17, 17, 3};
  const auto frames = reader.read(wanted);
  ASSERT_EQ(frames.sizes(), (std::vector<int64_t>{6, 64, 64, 3}));
  EXPECT_EQ(decode_codes(frames), wanted);
}

TEST(VideoReader, SeekingReturnsTheSameFramesAsDecodingForward) {
  // Keyframe every 12 frames, 3 B-frames: a seek lands on a keyframe and must decode forward to k.
  TempDir dir;
  const std::string path = (dir / "gop.mp4").string();
  btadapter::testing::ffmpeg_encode(coded_frames(150), path, "-c:v libx264 -g 12 -bf 3 -pix_fmt yuv420p");
  const Indices wanted = uniform_sample_test(150, 12);
  VideoReader seeking(path, VideoReaderOptions().seek_min_gap(0));
  VideoReader forward(path, VideoReaderOptions().seek_min_gap(INT64_MAX));
  const auto a = seeking.read(wanted);
  const auto b = forward.read(wanted);
  EXPECT_EQ(decode_codes(a), wanted);
  EXPECT_TRUE(torch::equal(a, b)) << "seek and grab decode different pixels";
  EXPECT_GE(seeking.seeks(), 11);
  EXPECT_EQ(forward.seeks(), 0);
  EXPECT_EQ(forward.grabs(), wanted.back() + 1);
  EXPECT_LT(seeking.grabs(), forward.grabs());
  // A later read that goes backwards works in both modes.
  EXPECT_EQ(decode_codes(seeking.read({3, 140, 2})), (Indices{3, 140, 2}));
  EXPECT_EQ(decode_codes(forward.read({3, 140, 2})), (Indices{3, 140, 2}));
}

TEST(VideoReader, MissingFrameCountIsCountedByDecoding) {
  // A raw H.264 elementary stream carries no frame count.
  TempDir dir;
  const std::string path = (dir / "raw.h264").string();
  btadapter::testing::ffmpeg_encode(coded_frames(37), path, "-c:v libx264 -g 8 -pix_fmt yuv420p -f h264");
  VideoReader exact(path, VideoReaderOptions().trust_frame_count(false));
  EXPECT_EQ(exact.num_frames(), 37);
  VideoReader trusting(path);
  const DecodedFrames d = trusting.read_sampled([](int64_t n) { return uniform_sample_test(n, 8); });
  EXPECT_EQ(decode_codes(d.frames), d.indices);
  EXPECT_EQ(d.indices, uniform_sample_test(d.num_frames, 8));
}

TEST(VideoReader, TruncatedFileCorrectsTheCountAndResamples) {
  // faststart puts the index first: after truncation the container still claims 60 frames. Noise makes
  // the frame data, not the index, most of the file.
  TempDir dir;
  const fs::path path = dir / "truncated.mp4";
  torch::manual_seed(0);
  const auto noisy = (coded_frames(60, 128).to(torch::kInt) + torch::randint(-40, 40, {60, 128, 128, 3}, torch::kInt))
                         .clamp(0, 255)
                         .to(torch::kUInt8);
  btadapter::testing::ffmpeg_encode(noisy, path.string(), "-c:v libx264 -g 10 -pix_fmt yuv420p -movflags +faststart");
  fs::resize_file(path, fs::file_size(path) * 3 / 5);
  VideoReader reader(path.string());
  EXPECT_EQ(reader.num_frames(), 60);
  const DecodedFrames d = reader.read_sampled([](int64_t n) { return uniform_sample_test(n, 8); });
  EXPECT_TRUE(d.count_corrected);
  EXPECT_GT(d.num_frames, 0);
  EXPECT_LT(d.num_frames, 60);
  EXPECT_EQ(d.indices, uniform_sample_test(d.num_frames, 8));
  const auto codes = decode_codes(d.frames);
  EXPECT_EQ(codes.front(), d.indices.front());  // early frames decode intact
  expect_video_error([&] { VideoReader(path.string()).read({59}); }, VideoErrorKind::kCorrupt, "past the real end");
}

TEST(VideoReader, BadFilesRaiseVideoErrorsNamingThePath) {
  TempDir dir;
  expect_video_error([&] { VideoReader((dir / "nope.mp4").string()); }, VideoErrorKind::kMissing, "nope.mp4");
  const std::string empty = write_text(dir / "empty.mp4", "");
  expect_video_error([&] { VideoReader r(empty); }, VideoErrorKind::kCorrupt, "empty file");
  const std::string text = write_text(dir / "text.mp4", std::string(5000, 'x'));
  expect_video_error([&] { VideoReader r(text); r.read_sampled([](int64_t n) { return uniform_sample_test(n, 4); }); },
                     VideoErrorKind::kCorrupt, "text.mp4");
  // A real video cut before its index (moov at the end) cannot be opened at all.
  const fs::path cut = dir / "cut.mp4";
  write_video(cut.string(), coded_frames(30), VideoWriterOptions());
  fs::resize_file(cut, fs::file_size(cut) / 2);
  expect_video_error([&] { VideoReader r(cut.string()); r.read({0}); }, VideoErrorKind::kCorrupt, "cut.mp4");
  const std::string bad_image = write_text(dir / "bad.jpg", "not a jpeg");
  expect_video_error([&] { VideoReader r(bad_image); }, VideoErrorKind::kCorrupt, "cannot decode the image");
}

TEST(VideoReader, FrameFolderIsAVideo) {
  TempDir dir;
  const auto frames = coded_frames(12);
  fs::create_directories(dir / "padded");
  fs::create_directories(dir / "plain");
  for (int64_t k = 0; k < 12; ++k) {
    char name[32];
    std::snprintf(name, sizeof(name), "%06lld.png", static_cast<long long>(k + 1));
    write_image((dir / "padded" / name).string(), frames[k]);
    write_image((dir / "plain" / (std::to_string(k + 1) + ".png")).string(), frames[k]);  // 1, 2, ..., 10, 11, 12
  }
  for (const char* folder : {"padded", "plain"}) {
    VideoReader reader((dir / folder).string());
    EXPECT_EQ(reader.num_frames(), 12);
    EXPECT_EQ(decode_codes(reader.read({0, 1, 9, 11})), (Indices{0, 1, 9, 11})) << folder;
  }
  // An unreadable frame is replaced by the next readable one, as the official RawFrameDecode does.
  write_text(dir / "padded" / "000004.png", "broken");
  EXPECT_EQ(decode_codes(VideoReader((dir / "padded").string()).read({3})), Indices{4});
  fs::create_directories(dir / "none");
  expect_video_error([&] { VideoReader r((dir / "none").string()); }, VideoErrorKind::kCorrupt, "no image files");
}

TEST(VideoReader, SingleImageRepeats) {
  TempDir dir;
  const std::string path = (dir / "still.png").string();
  write_image(path, coded_frames(8)[5]);
  VideoReader reader(path);
  EXPECT_EQ(reader.num_frames(), 1);
  const DecodedFrames d = reader.read_sampled([](int64_t n) { return uniform_sample_test(n, 4); });
  EXPECT_EQ(d.indices, Indices(4, 0));
  EXPECT_EQ(decode_codes(d.frames), Indices(4, 5));
}

TEST(VideoReader, IndicesOutsideTheVideoAreRejected) {
  TempDir dir;
  const std::string path = (dir / "v.mp4").string();
  write_video(path, coded_frames(10));
  VideoReader reader(path);
  expect_error([&] { reader.read({10}); }, "expected frame indices in [0, 10)");
}
