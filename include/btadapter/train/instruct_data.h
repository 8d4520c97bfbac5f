#pragma once
/// Instruction-tuning data of the BT-Adapter video LLM (issue 15): the VideoChatGPT instruction JSON
/// (official `train.py` LazySupervisedDataset) with the official pre-extracted features.
///
/// JSON: an array of {"id", "video", "conversations": [{"from": "human"|"gpt", "value"}, ...]}, the
/// first human turn holding the `<video>` placeholder (official field names). A row that is not such an
/// object is a bad row: counted and listed in InstructionFile::problems, never fatal.
///
/// Features: for video "v_abc.pkl" (the official pickles), `<feature_dir>/v_abc.safetensors` holds
/// tensor `features` [T, P+1, W] float: the tokens entering CLIP layer L-4 (the training build's input,
/// chat/video_tower.h). A row whose file is missing is skipped and counted at construction; a file with
/// the wrong shape or dtype is skipped and counted by collate_instructions.
///
/// Text: text::expand_video_token(turns, video_tokens) then text::preprocess_v1 (ids and labels -100
/// except the answers) cut to max_length. A sample longer than max_length is counted as truncated; it is
/// kept when its video block survived the cut (else it is skipped: the splice would have no `<vid_end>`).
///
///   train::InstructionDataset data("videochatgpt_tune.json", tokenizer,
///                                  train::InstructionDatasetOptions("features/", 257));
///   train::InstructionBatch batch = train::collate_instructions(data, {0, 1}, tokenizer.unk_id());
///
/// Thread safety: a constructed dataset is immutable; get() may be called concurrently.

#include "btadapter/text/instruction_sample.h"
#include "btadapter/text/llama_tokenizer.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace btadapter::train {

/// One row of the instruction JSON.
struct InstructionRecord {
  std::string id;
  std::string video;
  std::vector<text::ConversationTurn> turns;
};

/// The rows of an instruction JSON and the rows refused (each problem names the row and key).
struct InstructionFile {
  std::vector<InstructionRecord> records;
  int64_t bad_rows = 0;
  std::vector<std::string> problems;
};

/// Reads `path` (bounded JSON, io/json_limits.h). A file that is not a JSON array throws c10::Error
/// naming the file; bad rows are counted (see the file comment).
InstructionFile read_instruction_json(const std::string& path);

struct InstructionDatasetOptions {
  InstructionDatasetOptions(std::string feature_dir, int64_t video_tokens)
      : feature_dir_(std::move(feature_dir)), video_tokens_(video_tokens) {}
  /// Folder of the pre-extracted feature files; required.
  TORCH_ARG(std::string, feature_dir);
  /// Video tokens per video, P+1 (official video_token_len: 257 for ViT-L/14 at 224 px); required.
  TORCH_ARG(int64_t, video_tokens);
  /// Model context in tokens (official model_max_length); default 2048.
  TORCH_ARG(int64_t, max_length) = 2048;
};

/// What construction found, over the rows of the file.
struct InstructionDatasetStats {
  int64_t rows = 0;              ///< rows in the JSON (bad ones included)
  int64_t bad_rows = 0;          ///< rows that are not a valid sample
  int64_t missing_features = 0;  ///< rows whose feature file does not exist (skipped)
  int64_t truncated = 0;         ///< samples longer than max_length (cut)
  int64_t truncated_dropped = 0; ///< of those, the ones whose video block was cut (skipped)
  int64_t mismatched = 0;        ///< official "tokenization mismatch": kept, every label ignored
  int64_t usable = 0;            ///< samples in the dataset
};

/// One usable sample: its ids and labels (features are read on demand).
struct InstructionExample {
  std::string id;
  std::string feature_file;
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;
};

class InstructionDataset {
 public:
  InstructionDataset(const std::string& json_path, const text::LlamaTokenizer& tokenizer,
                     InstructionDatasetOptions options);
  int64_t size() const { return static_cast<int64_t>(examples_.size()); }
  const InstructionExample& example(int64_t index) const;
  /// The features [T, P+1, W] of sample `index`; throws c10::Error naming the file when it cannot be
  /// read or has another shape than [T, video_tokens, W] float.
  torch::Tensor features(int64_t index) const;
  const InstructionDatasetStats& stats() const { return stats_; }
  const InstructionDatasetOptions& options() const { return options_; }

 private:
  InstructionDatasetOptions options_;
  std::vector<InstructionExample> examples_;
  InstructionDatasetStats stats_;
};

/// A collated batch (official DataCollatorForSupervisedDataset): ids right-padded with `pad_id`,
/// labels with kIgnoreIndex. Right padding needs no attention mask in a causal model: no real token
/// attends to a later pad.
struct InstructionBatch {
  torch::Tensor features;    ///< float [B, T, P+1, W]
  torch::Tensor input_ids;   ///< int64 [B, N]
  torch::Tensor labels;      ///< int64 [B, N]
  std::vector<int64_t> indices;  ///< the dataset indices in the batch
  int64_t bad_videos = 0;    ///< samples left out because their features were unreadable
  std::vector<std::string> problems;
};

/// Collates `indices`, leaving out (and counting) samples whose features cannot be read; every kept
/// sample must have the same frame count T. An empty result has undefined tensors.
InstructionBatch collate_instructions(const InstructionDataset& data, const std::vector<int64_t>& indices,
                                      int64_t pad_id);

}  // namespace btadapter::train
