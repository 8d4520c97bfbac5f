#pragma once
/// Talking about a video with the BT-Adapter video LLM (official `llava_base/bt_adapter`:
/// `initialize_model` + `video_conversation_infer`, and the demo's multi-turn chat).
///
///   chat::VideoChat chat(chat::VideoChatOptions("vicuna-7b/", "clip-vit-large-patch14/",
///                                               "sft_btadapter_weight.bin", "sft_mm_projector.bin"));
///   chat::ChatAnswer a = chat.ask(chat::VideoInput::file("cooking.mp4"), "What is the man doing?",
///                                 chat.generation_defaults());
///   std::cout << a.text << "\n";
///
///   chat::Conversation conv = chat.conversation(chat::VideoInput::file("cooking.mp4"));
///   conv.ask("What is he cutting?", opts, [](const std::string& piece) { std::cout << piece; return true; });
///   conv.ask("And then?", opts);                                        // history kept
///
/// One turn, as the official code runs it:
///  1. video -> frames (data/conversation_frames.h: get_seq_frames, 224 nearest resize, CLIP
///     preprocessing) -> VideoTower -> video tokens [P+1, W] -> mm_projector -> [P+1, D];
///  2. the prompt: the template (default "video-chatgpt_v1") with the first user message
///     `question + "\n" + <vid_start> + (P+1) x <vid_patch> + <vid_end>`, later user messages plain,
///     answered turns closed with "</s>", an open "ASSISTANT:" turn; LlamaTokenizer::encode_prompt;
///  3. the token embeddings with the video spliced in (llm/video_splice.h), then llm::generate with
///     the EOS id as stop id; the answer is decoded without special ids and cleaned
///     (text::clean_answer, VideoChatOptions::answer_cleanup).
/// A multi-turn Conversation re-renders and re-prefills the whole history each turn, as the official
/// demo does (the video is spliced once, at the first user message).
///
/// Thread safety: a VideoChat is immutable after construction; ask() and conversation() may be called
/// from several threads at once (they share the model, read only). A Conversation is used by one
/// thread at a time; several Conversations may run concurrently.

#include "btadapter/chat/video_tower.h"
#include "btadapter/llm/generation.h"
#include "btadapter/text/conversation_template.h"
#include "btadapter/text/llama_tokenizer.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>

namespace btadapter::chat {

/// What to load and how to run it.
struct VideoChatOptions {
  VideoChatOptions(std::string llm, std::string clip, std::string adapter, std::string projector)
      : llm_(std::move(llm)), clip_(std::move(clip)), adapter_(std::move(adapter)), projector_(std::move(projector)) {}
  /// The LLaMA (llm/hf_checkpoint.h: a HF folder, or one weight file with config.json beside it).
  TORCH_ARG(std::string, llm);
  /// CLIP vision weights (chat/video_tower_weights.h).
  TORCH_ARG(std::string, clip);
  /// BT-Adapter weights (sft_btadapter_weight.bin or equivalent).
  TORCH_ARG(std::string, adapter);
  /// mm_projector weights (sft_mm_projector.bin); its `model.embed_tokens.weight`, when present,
  /// replaces the LLM's embedding table as the official load does (quirk 13).
  TORCH_ARG(std::string, projector);
  /// LLaMA SentencePiece model; default "": `tokenizer.model` in the LLM folder (or beside the file).
  TORCH_ARG(std::string, tokenizer) = "";
  /// Conversation template; default "video-chatgpt_v1" (the official eval default).
  TORCH_ARG(std::string, conv_mode) = "video-chatgpt_v1";
  /// dtype of the LLM, tower and projector; default float32 (float16 needs CUDA).
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat;
  /// Device; default CPU.
  TORCH_ARG(torch::Device, device) = torch::Device(torch::kCPU);
  /// Frames sampled per video file; default 64 (the official eval scripts' --num-frames 64).
  TORCH_ARG(int64_t, num_frames) = 64;
  /// The adapter's frame-count rule; default official (t = T//2).
  TORCH_ARG(FrameRule, frame_rule) = FrameRule::kOfficial;
  /// Vision heads when no config.json is beside the CLIP weights; default 0 (width / 64).
  TORCH_ARG(int64_t, vision_heads) = 0;
  /// Answer clean-up; default kStripStopString (the official rstrip('</s>') is kOfficialRstripCharacters).
  TORCH_ARG(text::AnswerCleanup, answer_cleanup) = text::AnswerCleanup::kStripStopString;
};

/// A video to talk about: a file (or frame folder), preprocessed frames, or precomputed video tokens.
struct VideoInput {
  enum class Kind { kFile, kFrames, kTokens };
  Kind kind = Kind::kFile;
  std::string path;      ///< kFile
  torch::Tensor tensor;  ///< kFrames: float [T,3,S,S]; kTokens: [P+1, W] tower output (before the projector)

  static VideoInput file(std::string path) { return {Kind::kFile, std::move(path), {}}; }
  static VideoInput frames(torch::Tensor frames) { return {Kind::kFrames, {}, std::move(frames)}; }
  static VideoInput tokens(torch::Tensor tokens) { return {Kind::kTokens, {}, std::move(tokens)}; }
};

/// Called with each new piece of answer text as it is generated; return false to stop.
using TextCallback = std::function<bool(const std::string& piece)>;

/// One answer and how it was produced.
struct ChatAnswer {
  std::string text;                  ///< cleaned answer
  llm::GenerationResult generation;  ///< ids (EOS included when it stopped there), timings, tokens/s
  double video_seconds = 0;          ///< reading + tower + projector for this turn (0 when reused)
};

class Conversation;

/// The loaded model. Copies are cheap handles sharing the same (immutable) model.
class VideoChat {
 public:
  /// Loads everything once. Errors (c10::Error) name the file; the tokenizer's vocabulary (with the 3
  /// video tokens) must equal the LLM's vocab_size.
  explicit VideoChat(const VideoChatOptions& options);

  /// One question about `video` without history (`video_conversation_infer`).
  ChatAnswer ask(const VideoInput& video, const std::string& question, const llm::GenerationOptions& options,
                 const TextCallback& on_text = {}) const;

  /// A conversation about `video` (see Conversation).
  Conversation conversation(const VideoInput& video) const;

  /// The projected video features [P+1, D] of `video` (model dtype and device).
  torch::Tensor video_features(const VideoInput& video) const;

  /// max_new_tokens 1024, temperature 0.2, top-k 50 (transformers' default, which the official
  /// `generate(do_sample=True, temperature=0.2)` uses), EOS as stop id.
  llm::GenerationOptions generation_defaults() const;

  const text::LlamaTokenizer& tokenizer() const;
  const VideoChatOptions& options() const;
  const text::ConversationTemplate& conversation_template() const;
  /// P+1 video tokens per video.
  int64_t video_token_count() const;

  /// One turn on a rendered prompt: tokenise, splice `features` [P+1, D], generate (max_new_tokens
  /// clamped to the context left; EOS added to the stop ids), decode, clean.
  ChatAnswer answer_prompt(const std::string& prompt, const torch::Tensor& features,
                           const llm::GenerationOptions& options, const TextCallback& on_text = {}) const;

 private:
  struct Model;
  std::shared_ptr<const Model> model_;
};

/// A multi-turn conversation about one video; holds the model shared. Used by one thread at a time.
class Conversation {
 public:
  /// Asks the next question; the answer is added to the history.
  ChatAnswer ask(const std::string& question, const llm::GenerationOptions& options, const TextCallback& on_text = {});
  /// Forgets the history (the video is kept).
  void reset();
  /// Switches to another video and forgets the history.
  void set_video(const VideoInput& video);
  /// The history as the official template renders it.
  const text::Conversation& history() const { return history_; }

 private:
  friend class VideoChat;
  Conversation(VideoChat chat, torch::Tensor features, double video_seconds);

  VideoChat chat_;
  torch::Tensor features_;  // [P+1, D] projected video features
  text::Conversation history_;
  double pending_video_seconds_ = 0;
};

}  // namespace btadapter::chat
