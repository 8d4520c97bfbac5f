#pragma once
// Shared by the conversation-model tools (bt_chat, bt_eval_qa): the model and generation options, one to
// one onto chat::VideoChatOptions and llm::GenerationOptions, whose defaults they show.

#include "btadapter/chat/video_chat.h"

#include "tool_support.h"

#include <CLI/CLI.hpp>

#include <string>

namespace btadapter::tools {

struct ChatModelCli {
  std::string llm, clip, adapter, projector, tokenizer;
  std::string conv_mode = chat::VideoChatOptions("", "", "", "").conv_mode();
  std::string device = chat::VideoChatOptions("", "", "", "").device().str();
  std::string dtype = dtype_name(chat::VideoChatOptions("", "", "", "").dtype());
  std::string frame_rule = enum_name(chat::VideoChatOptions("", "", "", "").frame_rule());
  int64_t frames = chat::VideoChatOptions("", "", "", "").num_frames();
  int64_t vision_heads = chat::VideoChatOptions("", "", "", "").vision_heads();
  bool official_cleanup = false;
  // Generation (llm::GenerationOptions defaults: greedy; the official scripts sample at temperature 0.2).
  int64_t max_new_tokens = llm::GenerationOptions().max_new_tokens();
  double temperature = llm::GenerationOptions().temperature();
  double top_p = llm::GenerationOptions().top_p();
  int64_t top_k = llm::GenerationOptions().top_k();
  uint64_t seed = llm::GenerationOptions().seed();

  void add_to(CLI::App& app) {
    app.add_option("--llm", llm, "LLaMA: a HF folder, or one weight file with config.json beside it")->required();
    app.add_option("--clip", clip, "CLIP vision weights (HF CLIPVisionModel/CLIPModel folder or file)")->required();
    app.add_option("--adapter", adapter, "BT-Adapter weights (sft_btadapter_weight.bin or safetensors)")->required();
    app.add_option("--projector", projector, "mm_projector weights (sft_mm_projector.bin or safetensors)")->required();
    app.add_option("--tokenizer", tokenizer, "LLaMA tokenizer.model (default: the one in the LLM folder)");
    app.add_option("--conv-mode", conv_mode, "conversation template: video-chatgpt_v1 | vicuna_v1_1")->capture_default_str();
    app.add_option("--frames", frames, "frames sampled per video (official get_seq_frames)")->capture_default_str();
    app.add_option("--frame-rule", frame_rule, "official (t = T//2) | all_frames (t = T)")->capture_default_str();
    app.add_option("--vision-heads", vision_heads, "vision heads without a CLIP config.json (0: width/64)")->capture_default_str();
    app.add_option("--device", device, "cpu | cuda | cuda:N")->capture_default_str();
    app.add_option("--dtype", dtype, "float32 | float16 (CUDA) | bfloat16")->capture_default_str();
    app.add_flag("--official-cleanup", official_cleanup,
                 "clean answers with the official rstrip('</s>') character set (\"two dogs\" -> \"two dog\")");
    app.add_option("--max-new-tokens", max_new_tokens, "most tokens per answer")->capture_default_str();
    app.add_option("--temperature", temperature, "0 = greedy; the official scripts sample at 0.2")->capture_default_str();
    app.add_option("--top-p", top_p, "nucleus sampling mass")->capture_default_str();
    app.add_option("--top-k", top_k, "top-k when sampling (0 = off)")->capture_default_str();
    app.add_option("--seed", seed, "sampling seed")->capture_default_str();
  }

  chat::VideoChatOptions chat_options() const {
    return chat::VideoChatOptions(llm, clip, adapter, projector)
        .tokenizer(tokenizer)
        .conv_mode(conv_mode)
        .device(parse_device(device))
        .dtype(parse_dtype(dtype))
        .num_frames(frames)
        .frame_rule(enum_from_name<chat::FrameRule>(frame_rule))
        .vision_heads(vision_heads)
        .answer_cleanup(official_cleanup ? text::AnswerCleanup::kOfficialRstripCharacters
                                         : text::AnswerCleanup::kStripStopString);
  }

  /// The generation options; the model's EOS is added as stop id by VideoChat.
  llm::GenerationOptions generation() const {
    return llm::GenerationOptions().max_new_tokens(max_new_tokens).temperature(temperature).top_p(top_p).top_k(top_k).seed(seed);
  }

  void configure_runtime() const {
    if (parse_device(device).is_cpu()) configure_cpu_runtime();
  }
};

}  // namespace btadapter::tools
