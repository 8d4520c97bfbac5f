// video_search: text-to-video search over a folder of videos with libbtadapter's public API.
//
//   video_search MODEL FOLDER "QUERY" [K] [--vocab FILE] [--frames N]
//
// Encodes every video file in FOLDER (sorted by name), encodes the query, and prints the K best
// matches as "rank<TAB>score<TAB>path", best first.
#include <btadapter/btadapter.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

bool is_video(const std::filesystem::path& path) {
  static const std::vector<std::string> extensions{".mp4", ".avi", ".mkv", ".mov", ".webm"};
  return std::find(extensions.begin(), extensions.end(), path.extension().string()) != extensions.end();
}

int usage() {
  std::cerr << "usage: video_search MODEL FOLDER \"QUERY\" [K] [--vocab FILE] [--frames N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  std::string vocab;
  int64_t frames = btadapter::VideoOptions().num_frames();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--vocab" && i + 1 < argc) {
      vocab = argv[++i];
    } else if (arg == "--frames" && i + 1 < argc) {
      frames = std::stoll(argv[++i]);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() < 3 || positional.size() > 4) return usage();
  try {
    const int64_t k = positional.size() == 4 ? std::stoll(positional[3]) : 5;
    std::vector<std::string> videos;
    for (const auto& entry : std::filesystem::directory_iterator(positional[1])) {
      if (entry.is_regular_file() && is_video(entry.path())) videos.push_back(entry.path().string());
    }
    std::sort(videos.begin(), videos.end());
    if (videos.empty()) {
      std::cerr << "video_search: no video files in '" << positional[1] << "'\n";
      return 1;
    }

    const auto model = btadapter::Model::load(positional[0], btadapter::LoadOptions().vocab(vocab));
    const torch::Tensor video_embeddings = model->encode_videos(videos, btadapter::VideoOptions().num_frames(frames));
    const torch::Tensor query = model->encode_texts({positional[2]});
    const btadapter::SearchResult hits = btadapter::search(query, video_embeddings, std::min<int64_t>(k, videos.size()));

    for (int64_t r = 0; r < hits.ids.size(1); ++r) {
      std::printf("%lld\t%.6f\t%s\n", static_cast<long long>(r + 1), hits.scores[0][r].item<double>(),
                  videos[hits.ids[0][r].item<int64_t>()].c_str());
    }
    return 0;
  } catch (const c10::Error& e) {
    std::cerr << "video_search: " << e.what_without_backtrace() << std::endl;  // LibTorch errors carry a trace
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "video_search: " << e.what() << std::endl;
    return 1;
  }
}
