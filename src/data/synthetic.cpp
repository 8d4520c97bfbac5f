#include "btadapter/data/synthetic.h"

#include "btadapter/data/random.h"
#include "btadapter/data/video_writer.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace btadapter::data {

namespace fs = std::filesystem;

namespace {

struct Colour {
  const char* name;
  cv::Scalar rgb;
};
const Colour kColours[] = {{"red", {220, 40, 40}},     {"green", {40, 200, 60}},   {"blue", {50, 90, 235}},
                           {"yellow", {235, 215, 40}}, {"purple", {165, 60, 210}}, {"white", {240, 240, 240}}};
const char* const kShapes[] = {"circle", "square", "triangle"};

// A motion and its time reversal.
struct Motion {
  const char* phrase;
  const char* reversed;
  int dx, dy;  // direction of travel
};
const Motion kMotions[] = {{"from left to right", "from right to left", 1, 0},
                           {"from right to left", "from left to right", -1, 0},
                           {"from top to bottom", "from bottom to top", 0, 1},
                           {"from bottom to top", "from top to bottom", 0, -1}};

template <typename T, size_t N>
const T& pick(const T (&items)[N], DataRng& rng) {
  return items[rng.randint(0, static_cast<int64_t>(N) - 1)];
}

void draw_shape(cv::Mat& frame, const std::string& shape, cv::Point centre, int radius, const cv::Scalar& colour) {
  if (shape == "circle") {
    cv::circle(frame, centre, radius, colour, cv::FILLED, cv::LINE_AA);
  } else if (shape == "square") {
    cv::rectangle(frame, centre - cv::Point(radius, radius), centre + cv::Point(radius, radius), colour, cv::FILLED);
  } else {
    const std::vector<cv::Point> corners = {centre + cv::Point(0, -radius), centre + cv::Point(-radius, radius),
                                            centre + cv::Point(radius, radius)};
    cv::fillConvexPoly(frame, corners, colour, cv::LINE_AA);
  }
}

// Writes text to `path` through a temporary file and a rename.
void write_text_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    TORCH_CHECK(out.is_open(), "cannot write '", tmp.string(), "'");
    out << text;
    TORCH_CHECK(out.good(), "writing '", tmp.string(), "' failed");
  }
  fs::rename(tmp, path);
}

std::string iso_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::ceil(seconds));
  char text[64];
  std::snprintf(text, sizeof(text), "PT%02lldH%02lldM%02lldS", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

// WebVid buckets pages by 50: page 27732 lives in "027701_027750".
std::string page_dir(int64_t page) {
  const int64_t first = (page - 1) / 50 * 50 + 1;
  char text[64];
  std::snprintf(text, sizeof(text), "%06lld_%06lld", static_cast<long long>(first), static_cast<long long>(first + 49));
  return text;
}

int64_t round_up_even(int64_t n) { return n + (n % 2); }

}  // namespace

SyntheticClip make_synthetic_clip(int64_t frames, int64_t size, uint64_t seed) {
  TORCH_CHECK(frames >= 2 && size >= 16, "synthetic clip: expected frames >= 2 and size >= 16, got ", frames, " and ",
              size);
  DataRng rng(seed);
  const Colour& colour = pick(kColours, rng);
  const std::string shape = pick(kShapes, rng);
  const Motion& motion = pick(kMotions, rng);
  const cv::Scalar background(rng.randint(10, 70), rng.randint(10, 70), rng.randint(10, 70));
  const int radius = static_cast<int>(std::lround(static_cast<double>(size) * 0.17));
  const int margin = radius + 2, far = static_cast<int>(size) - 1 - margin;
  const int across = static_cast<int>(rng.randint(margin, far));  // position on the axis it does not move along

  SyntheticClip clip;
  clip.frames = torch::empty({frames, size, size, 3}, torch::kUInt8);
  for (int64_t t = 0; t < frames; ++t) {
    cv::Mat frame(static_cast<int>(size), static_cast<int>(size), CV_8UC3, clip.frames[t].data_ptr<uint8_t>());
    frame.setTo(background);
    const double progress = static_cast<double>(t) / static_cast<double>(frames - 1);
    const int along_forward = static_cast<int>(std::lround(margin + progress * (far - margin)));
    const int along = (motion.dx + motion.dy) > 0 ? along_forward : margin + far - along_forward;
    const cv::Point centre = motion.dx != 0 ? cv::Point(along, across) : cv::Point(across, along);
    draw_shape(frame, shape, centre, radius, colour.rgb);
  }
  const std::string subject = std::string("a ") + colour.name + " " + shape + " moves ";
  clip.caption = subject + motion.phrase;
  clip.reversed_caption = subject + motion.reversed;
  return clip;
}

SyntheticDataset make_synthetic_dataset(const SyntheticOptions& o, const std::function<void(int64_t, int64_t)>& progress) {
  TORCH_CHECK(o.train_videos() >= 1 && o.test_videos() >= 1, "synthetic data: expected at least one train and one ",
              "test video, got ", o.train_videos(), " and ", o.test_videos());
  TORCH_CHECK(o.size() % 2 == 0, "synthetic data: expected an even size (H.264 4:2:0), got ", o.size());
  TORCH_CHECK(o.fps() > 0, "synthetic data: expected fps > 0, got ", o.fps());
  const fs::path out(o.out_dir());
  SyntheticDataset result;
  result.train_csv = (out / "train.csv").string();
  result.train_root = (out / "videos").string();
  result.test_json = (out / "test.json").string();
  result.test_root = (out / "test_videos").string();
  result.direction_json = (out / "direction.json").string();
  result.train_videos = round_up_even(o.train_videos());
  result.test_videos = round_up_even(o.test_videos());
  result.test_pairs = result.test_videos / 2;
  fs::create_directories(result.test_root);
  const int64_t total = result.train_videos + result.test_videos;
  const auto options = VideoWriterOptions().fps(o.fps());
  int64_t written = 0;
  // Writes one clip and its reversal; returns both captions.
  auto write_pair = [&](uint64_t key, const fs::path& forward, const fs::path& reversed) {
    const SyntheticClip clip = make_synthetic_clip(o.frames(), o.size(), key);
    fs::create_directories(forward.parent_path());
    write_video(forward.string(), clip.frames, options);
    write_video(reversed.string(), clip.frames.flip(0), options);
    written += 2;
    if (progress) progress(written, total);
    return std::make_pair(clip.caption, clip.reversed_caption);
  };

  std::string csv = "videoid,name,page_idx,page_dir,duration,contentUrl\n";
  const std::string duration = iso_duration(static_cast<double>(o.frames()) / o.fps());
  for (int64_t i = 0; i < result.train_videos; i += 2) {
    const int64_t page = i / 20 + 1;
    const std::string dir = page_dir(page), a = std::to_string(1000000 + i), b = std::to_string(1000001 + i);
    const auto [caption_a, caption_b] = write_pair(DataRng::mix({o.seed(), 1, static_cast<uint64_t>(i)}),
                                                   out / "videos" / dir / (a + ".mp4"), out / "videos" / dir / (b + ".mp4"));
    for (const auto& [id, caption] : {std::make_pair(a, caption_a), std::make_pair(b, caption_b)}) {
      csv += id + "," + caption + "," + std::to_string(page) + "," + dir + "," + duration +
             ",https://example.invalid/synthetic/" + id + ".mp4\n";
    }
  }

  nlohmann::ordered_json test = nlohmann::ordered_json::object();
  nlohmann::ordered_json pairs = nlohmann::ordered_json::array();
  for (int64_t i = 0; i < result.test_videos; i += 2) {
    const std::string a = "video" + std::to_string(i) + ".mp4", b = "video" + std::to_string(i + 1) + ".mp4";
    const auto [caption_a, caption_b] = write_pair(DataRng::mix({o.seed(), 2, static_cast<uint64_t>(i)}),
                                                   out / "test_videos" / a, out / "test_videos" / b);
    test[a] = {caption_a};
    test[b] = {caption_b};
    pairs.push_back({{"forward", a}, {"reversed", b}, {"forward_caption", caption_a}, {"reversed_caption", caption_b}});
  }
  write_text_file(result.train_csv, csv);
  write_text_file(result.test_json, test.dump(2) + "\n");
  const nlohmann::ordered_json direction{{"annotations", "test.json"}, {"format", "msrvtt-json"}, {"pairs", pairs}};
  write_text_file(result.direction_json, direction.dump(2) + "\n");
  return result;
}

}  // namespace btadapter::data
