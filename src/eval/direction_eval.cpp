#include "btadapter/eval/direction_eval.h"

#include "btadapter/data/annotations.h"
#include "btadapter/data/video_clip.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>

namespace btadapter::eval {
namespace {

using nlohmann::json;

std::string required_string(const json& entry, const char* key, const std::string& path, size_t index) {
  TORCH_CHECK(entry.contains(key) && entry[key].is_string() && !entry[key].get<std::string>().empty(),
              "direction pairs file '", path, "' pair ", index + 1, ": expected a non-empty string '", key, "'");
  return entry[key].get<std::string>();
}

}  // namespace

std::vector<DirectionPair> read_direction_pairs(const std::string& path) {
  std::ifstream in(path);
  TORCH_CHECK(in, "cannot open direction pairs file '", path, "'");
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {
    TORCH_CHECK(false, "direction pairs file '", path, "' is not valid JSON: ", e.what());
  }
  TORCH_CHECK(root.is_object() && root.contains("pairs") && root["pairs"].is_array() && !root["pairs"].empty(),
              "direction pairs file '", path, "': expected an object with a non-empty list 'pairs'");
  std::vector<DirectionPair> pairs;
  const json& list = root["pairs"];
  for (size_t i = 0; i < list.size(); ++i) {
    TORCH_CHECK(list[i].is_object(), "direction pairs file '", path, "' pair ", i + 1, ": expected an object");
    pairs.push_back({required_string(list[i], "forward", path, i), required_string(list[i], "reversed", path, i),
                     required_string(list[i], "forward_caption", path, i),
                     required_string(list[i], "reversed_caption", path, i)});
  }
  return pairs;
}

DirectionMetrics direction_accuracy(const torch::Tensor& forward_videos, const torch::Tensor& reversed_videos,
                                    const torch::Tensor& forward_texts, const torch::Tensor& reversed_texts,
                                    double tie_tolerance) {
  const auto& shape = forward_videos.sizes();
  TORCH_CHECK(forward_videos.dim() == 2 && shape[0] >= 1 && reversed_videos.sizes() == shape &&
                  forward_texts.sizes() == shape && reversed_texts.sizes() == shape,
              "direction_accuracy: expected four [P, E] tensors of one shape, got ", forward_videos.sizes(), ", ",
              reversed_videos.sizes(), ", ", forward_texts.sizes(), ", ", reversed_texts.sizes());
  const auto fv = forward_videos.to(torch::kDouble), rv = reversed_videos.to(torch::kDouble);
  const auto ft = forward_texts.to(torch::kDouble), rt = reversed_texts.to(torch::kDouble);
  // Own-video score minus twin-video score, for the forward captions then the reversed ones.
  const auto margin = torch::cat({(ft * fv).sum(1) - (ft * rv).sum(1), (rt * rv).sum(1) - (rt * fv).sum(1)});
  DirectionMetrics m;
  m.pairs = shape[0];
  m.texts = margin.size(0);
  m.tie_tolerance = tie_tolerance;
  m.ties = (margin.abs() <= tie_tolerance).sum().item<int64_t>();
  m.wins = (margin > tie_tolerance).sum().item<int64_t>();
  m.accuracy = (static_cast<double>(m.wins) + 0.5 * static_cast<double>(m.ties)) / static_cast<double>(m.texts) * 100.0;
  return m;
}

DirectionMetrics run_direction_eval(const Model& model, const std::string& pairs_path,
                                    const DirectionEvalOptions& options) {
  const std::vector<DirectionPair> pairs = read_direction_pairs(pairs_path);
  const VideoOptions& video = options.video();
  std::vector<std::string> forward, reversed, forward_captions, reversed_captions;
  for (const auto& pair : pairs) {
    forward.push_back(data::resolve_video_path(options.root(), pair.forward));
    reversed.push_back(data::resolve_video_path(options.root(), pair.reversed));
    forward_captions.push_back(pair.forward_caption);
    reversed_captions.push_back(pair.reversed_caption);
  }
  torch::Tensor forward_videos, reversed_videos;
  if (options.reversed_from_files()) {
    forward_videos = model.encode_videos(forward, video);
    reversed_videos = model.encode_videos(reversed, video);
  } else {
    // Decode each forward clip once and encode it both ways.
    auto clip = data::ClipOptions(video.num_frames(), model.config().vision.image_size);
    clip.transform().short_side(video.short_side());
    std::vector<torch::Tensor> forward_rows, reversed_rows;
    for (size_t begin = 0; begin < forward.size(); begin += static_cast<size_t>(video.batch_size())) {
      std::vector<torch::Tensor> clips;
      for (size_t i = begin; i < std::min(forward.size(), begin + static_cast<size_t>(video.batch_size())); ++i) {
        clips.push_back(data::load_clip(forward[i], clip).frames);
      }
      const auto batch = torch::stack(clips);  // [B, T, 3, S, S] uint8
      forward_rows.push_back(model.encode_videos(batch));
      reversed_rows.push_back(model.encode_videos(batch.flip(1)));
    }
    forward_videos = torch::cat(forward_rows);
    reversed_videos = torch::cat(reversed_rows);
  }
  return direction_accuracy(forward_videos, reversed_videos, model.encode_texts(forward_captions),
                            model.encode_texts(reversed_captions), options.tie_tolerance());
}

std::string direction_metrics_json(const DirectionMetrics& m) {
  return json{{"pairs", m.pairs},       {"texts", m.texts},       {"wins", m.wins},
              {"ties", m.ties},         {"accuracy", m.accuracy}, {"tie_tolerance", m.tie_tolerance}}
      .dump();
}

}  // namespace btadapter::eval
