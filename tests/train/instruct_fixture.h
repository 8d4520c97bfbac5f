#pragma once
// Instruction tuning on the conversation fixture (tests/fixtures/conversation/tiny_conv_a): its four
// weight files loaded as InstructModel, the toy LLaMA vocabulary as a SentencePiece model, and
// instruction JSON + feature files written into a scratch folder.

#include "btadapter/chat/video_tower_weights.h"
#include "btadapter/io/safetensors.h"
#include "btadapter/llm/hf_checkpoint.h"
#include "btadapter/train/instruct_data.h"
#include "btadapter/train/instruct_step.h"
#include "chat/conversation_fixture.h"
#include "support/toy_llama_tokenizer.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace btadapter::testing {

inline train::InstructModel load_instruct_fixture_model(const text::LlamaTokenizer& tokenizer) {
  const ConversationFixture& f = conversation_fixture();
  train::InstructModel m;
  m.tower = chat::load_video_tower(f.file("vision_tower_clip.safetensors"), f.file("btadapter.safetensors"));
  m.projector = chat::load_projector(f.file("mm_projector.safetensors"));
  m.llm = llm::load_llama(f.file("llama.safetensors"), llm::LlamaLoadOptions().config_path(f.file("config.json")));
  m.splice = llm::VideoSpliceOptions(tokenizer.video_patch_id(), tokenizer.video_start_id(), tokenizer.video_end_id());
  return m;
}

/// The toy tokenizer written as `dir`/toy.model.
inline text::LlamaTokenizer fixture_tokenizer(const TempDir& dir) {
  write_toy_llama_model(conversation_fixture().file("config.json"), dir / "toy.model");
  return text::LlamaTokenizer((dir / "toy.model").string());
}

/// Writes `features` [T,P+1,W] as `dir`/features/<stem>.safetensors for video "<stem>.pkl".
inline void write_features(const TempDir& dir, const std::string& stem, const torch::Tensor& features) {
  std::filesystem::create_directories(dir / "features");
  io::write_safetensors((dir / "features" / (stem + ".safetensors")).string(), {{"features", features.contiguous()}});
}

/// Writes `rows` as `dir`/`name` and returns its path.
inline std::string write_json(const TempDir& dir, const std::string& name, const nlohmann::json& rows) {
  const std::string path = (dir / name).string();
  std::ofstream(path) << rows.dump(1);
  return path;
}

/// One VideoChatGPT row with a question and an answer.
inline nlohmann::json instruction_row(const std::string& stem, const std::string& question, const std::string& answer) {
  return {{"id", stem},
          {"video", stem + ".pkl"},
          {"conversations", {{{"from", "human"}, {"value", question + "\n<video>"}}, {{"from", "gpt"}, {"value", answer}}}}};
}

/// Two AdamW runs over the same data on 1 process and on 2 ranks agree to within 5% of one learning-rate
/// step per element (measured on the fixture: at most 1.3e-5 after 4 steps at lr 1e-3). The k_proj
/// biases are not compared: their true gradient is exactly zero (softmax ignores a per-query
/// constant), so their ~1e-10 gradients are roundoff, which AdamW scales up by lr / eps.
inline void expect_adamw_runs_match(const torch::Tensor& actual, const torch::Tensor& expected, double lr,
                                    const std::string& name) {
  const std::string roundoff_only = "k_proj.bias";
  if (name.size() >= roundoff_only.size() && name.compare(name.size() - roundoff_only.size(), std::string::npos, roundoff_only) == 0) return;
  EXPECT_LE((actual - expected).abs().max().item<double>(), 0.05 * lr) << name;
}

}  // namespace btadapter::testing
