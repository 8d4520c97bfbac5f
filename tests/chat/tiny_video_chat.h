#pragma once
// A tiny VideoChat from the conversation fixture: its LLaMA, CLIP, adapter and projector files as they
// are, plus the fixture's toy vocabulary written as a SentencePiece model (same 333 pieces, so the
// tokenizer's 336 ids match the LLM's vocabulary), and a small generated video file.

#include "btadapter/chat/video_chat.h"
#include "btadapter/data/video_writer.h"
#include "btadapter/text/sentencepiece_tokenizer.h"
#include "support/toy_llama_tokenizer.h"
#include "chat/conversation_fixture.h"

namespace btadapter::testing {

/// VideoChatOptions for the fixture files, with the toy tokenizer written into `dir`.
inline chat::VideoChatOptions tiny_video_chat_options(const TempDir& dir) {
  const ConversationFixture& f = conversation_fixture();
  const std::string tokenizer = (dir / "tokenizer.model").string();
  write_toy_llama_model(f.file("config.json"), tokenizer);
  return chat::VideoChatOptions(f.file("llama.safetensors"), f.file("vision_tower_clip.safetensors"),
                                f.file("btadapter.safetensors"), f.file("mm_projector.safetensors"))
      .tokenizer(tokenizer)
      .num_frames(4);
}

/// A 10-frame 48x64 RGB video with moving content (seeded).
inline std::string write_tiny_video(const TempDir& dir, const std::string& name, int64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor frames = torch::randint(0, 256, {10, 48, 64, 3}, torch::kUInt8);
  const std::string path = (dir / name).string();
  data::write_video(path, frames);
  return path;
}

/// A small caption file for training an unrelated SentencePiece model.
inline std::string write_toy_captions(const TempDir& dir) {
  const std::string path = (dir / "captions.txt").string();
  std::ofstream out(path);
  for (int i = 0; i < 100; ++i) out << "a dog runs along the beach " << i % 9 << "\nthe cat sleeps on a mat\n";
  return path;
}

}  // namespace btadapter::testing
