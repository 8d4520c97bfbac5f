// bt_video_tokens: the BT-Adapter video tokens a LLaVA-style LLM gets, for one or more video files.
//
//   bt_video_tokens --clip clip-vit-large-patch14/ --adapter sft_btadapter_weight.bin
//       [--projector sft_mm_projector.bin] --video a.mp4 --video b.mp4 [--frames 64] -o tokens.safetensors
//
// Writes, per video i, `video.<i>.tokens` [P+1, W] (patches, then the combined cls) and with --projector
// `video.<i>.projected` [P+1, D]; metadata: the model files' SHA-256, frames, each video's path and
// frame indices, the tapped layer, the frame rule and the preprocessing. Prints a one-line JSON summary.
#include "btadapter/chat/video_tower_weights.h"
#include "btadapter/data/conversation_frames.h"
#include "btadapter/io/sha256.h"
#include "btadapter/runtime/cpu_runtime.h"

#include "tool_support.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <optional>

int main(int argc, char** argv) {
  using namespace btadapter;
  std::string clip, adapter, projector, output, frame_rule = chat::to_string(chat::FrameRule::kOfficial);
  std::vector<std::string> videos;
  data::ConversationFrameOptions frames;
  int64_t num_frames = frames.num_frames(), heads = chat::VideoTowerLoadOptions().heads();
  bool no_square_resize = false;
  CLI::App app{"BT-Adapter video tokens (conversation model vision side) for video files."};
  app.add_option("--clip", clip, "HF CLIP vision weights: a CLIPVisionModel/CLIPModel folder or file")->required();
  app.add_option("--adapter", adapter, "BT-Adapter weights: sft_btadapter_weight.bin, a pretraining checkpoint, "
                                       "or safetensors of either")
      ->required();
  app.add_option("--projector", projector, "sft_mm_projector.bin (adds the projected tokens)");
  app.add_option("--video", videos, "video file, frame folder or image (repeatable)")->required();
  app.add_option("--frames", num_frames, "frames sampled per video (official get_seq_frames)")->capture_default_str();
  app.add_option("--frame-rule", frame_rule, "official (t = T//2) | all_frames (t = T)")->capture_default_str();
  app.add_option("--heads", heads, "attention heads when no config.json is beside the CLIP weights (0: width/64)")
      ->capture_default_str();
  app.add_flag("--no-square-resize", no_square_resize, "skip the official nearest resize to 224x224 (keeps aspect)");
  app.add_option("-o,--output", output, "output .safetensors")->required();
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_video_tokens", [&] {
    const auto start = std::chrono::steady_clock::now();
    configure_cpu_runtime();
    torch::NoGradGuard no_grad;
    const auto options = chat::VideoTowerLoadOptions().heads(heads).frame_rule(chat::parse_frame_rule(frame_rule));
    chat::VideoTower tower = chat::load_video_tower(clip, adapter, options);
    std::optional<chat::Projector> proj;
    if (!projector.empty()) proj = chat::load_projector(projector);
    frames.num_frames(num_frames).image_size(tower->options().image_size()).square_resize(!no_square_resize);

    io::TensorMap tensors;
    io::Metadata meta;
    meta["clip_sha256"] = io::sha256_file(chat::clip_weight_file(clip));
    meta["adapter_sha256"] = io::sha256_file(adapter);
    if (proj) meta["projector_sha256"] = io::sha256_file(projector);
    meta["frames"] = std::to_string(num_frames);
    meta["frame_rule"] = frame_rule;
    meta["square_resize"] = no_square_resize ? "false" : "true";
    meta["layer"] = "hidden_states[-2] = combine(CLIP layer " + std::to_string(tower->options().layers() - 2) +
                    ", adapter layer 2), batch mean";
    meta["videos"] = std::to_string(videos.size());
    for (size_t i = 0; i < videos.size(); ++i) {
      const std::string key = "video." + std::to_string(i);
      const data::ConversationVideo video = data::read_conversation_video(videos[i], frames);
      const auto tokens = tower->video_tokens(video.frames);
      tensors[key + ".tokens"] = tokens;
      if (proj) tensors[key + ".projected"] = proj->mm_projector->forward(tokens);
      meta[key + ".path"] = videos[i];
      meta[key + ".total_frames"] = std::to_string(video.total_frames);
      meta[key + ".frame_indices"] = nlohmann::json(video.indices).dump();
    }
    io::write_safetensors(output, tensors, meta);
    const int64_t rows = tensors.begin()->second.size(0);
    const nlohmann::json projected =
        proj ? nlohmann::json::array({rows, proj->mm_projector->weight.size(0)}) : nlohmann::json();
    nlohmann::json summary = {
        {"output", output},
        {"videos", videos.size()},
        {"tokens", nlohmann::json::array({rows, tower->options().width()})},
        {"projected", projected},
        {"frame_rule", frame_rule},
        {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
    std::cout << summary.dump() << std::endl;
    return 0;
  });
}
