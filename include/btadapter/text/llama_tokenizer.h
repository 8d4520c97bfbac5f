#pragma once
/// The LLaMA tokenizer of the BT-Adapter video LLM: LLaMA's SentencePiece model (through the
/// SentencePiece plugin) plus the three added video tokens, with the behaviour of the slow
/// transformers-4.28 `LlamaTokenizer` the official training uses (conversation README sections 4, 6;
/// quirks 8, 10).
///
///   LlamaTokenizer tokenizer("llama/tokenizer.model");
///   std::vector<int64_t> ids = tokenizer.encode_prompt(prompt);   // [<s>] + encode(prompt)
///   std::string answer = clean_answer(tokenizer.decode(generated));
///
/// Rules:
///  - Added tokens, appended after the model's pieces in the official order (`initialize_model`):
///    `<vid_patch>` = base + 0, `<vid_start>` = base + 1, `<vid_end>` = base + 2, base = the model's
///    piece count; vocab_size() = base + 3.
///  - encode() splits the text at the added tokens and at the model's "<s>" / "</s>" strings (which
///    become bos_id() / eos_id(), so the training text's "</s>" is one id). Whitespace next to an added
///    video token is stripped from the neighbouring text (slow tokenizer: tokens added as plain strings
///    strip both sides), so "question\n<vid_start>" has no "\n" token and "<vid_end> ASSISTANT" no
///    " " token; "<s>"/"</s>" strip nothing. Each remaining piece of text is encoded by SentencePiece
///    on its own (so each gets the model's dummy-prefix "▁").
///  - decode() skips the special ids (bos, eos, unk and the video tokens) and detokenises the rest as
///    one SentencePiece sequence. The slow tokenizer would print a video token in an answer as
///    " <vid_patch> "; a model answer never meaningfully contains one, so it is dropped.
///
/// Thread safety: immutable after construction; const methods may be called concurrently.

#include "btadapter/text/sentencepiece_tokenizer.h"
#include "btadapter/text/tokenizer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace btadapter::text {

/// Options of LlamaTokenizer.
struct LlamaTokenizerOptions {
  explicit LlamaTokenizerOptions(std::string model_path) : model_path_(std::move(model_path)) {}
  /// LLaMA's SentencePiece `tokenizer.model`.
  TORCH_ARG(std::string, model_path);
  /// Id of `<unk>` (skipped by decode); default 0, LLaMA's.
  TORCH_ARG(int64_t, unk_id) = 0;
  /// framing() context length used by frame()/tokenize(); default 2048 (LLaMA / Vicuna context).
  TORCH_ARG(int64_t, context_length) = 2048;
};

class LlamaTokenizer : public Tokenizer {
 public:
  explicit LlamaTokenizer(const LlamaTokenizerOptions& options);
  explicit LlamaTokenizer(const std::string& model_path) : LlamaTokenizer(LlamaTokenizerOptions(model_path)) {}

  /// Ids of `text` without BOS, split at added and special tokens as described above.
  std::vector<int64_t> encode(const std::string& text) const override;
  /// `[bos_id()] + encode(text)`: what the official `tokenizer([prompt]).input_ids` gives.
  std::vector<int64_t> encode_prompt(const std::string& text) const;
  /// Text of `ids` with special ids skipped (`skip_special_tokens=True`). Throws c10::Error for an id
  /// outside [0, vocab_size()).
  std::string decode(const std::vector<int64_t>& ids) const override;
  /// Model pieces + 3 added tokens.
  int64_t vocab_size() const override { return base_vocab_size_ + 3; }

  int64_t base_vocab_size() const { return base_vocab_size_; }
  int64_t bos_id() const { return bos_id_; }
  int64_t eos_id() const { return eos_id_; }
  int64_t unk_id() const { return unk_id_; }
  int64_t video_patch_id() const { return base_vocab_size_; }
  int64_t video_start_id() const { return base_vocab_size_ + 1; }
  int64_t video_end_id() const { return base_vocab_size_ + 2; }
  /// Whether decode() skips `id`.
  bool is_special(int64_t id) const;

 private:
  LlamaTokenizer(std::unique_ptr<SentencePieceTokenizer> model, const LlamaTokenizerOptions& options);

  std::unique_ptr<SentencePieceTokenizer> model_;
  int64_t base_vocab_size_;
  int64_t bos_id_;
  int64_t eos_id_;
  int64_t unk_id_;
};

/// How a decoded answer is cleaned.
enum class AnswerCleanup {
  /// Our default: strip whitespace, drop one trailing "</s>" string if present, strip whitespace.
  kStripStopString,
  /// The official `outputs.strip().rstrip('</s>').strip()` (inference.py:134): rstrip removes any
  /// trailing run of the characters '<', '/', 's', '>', so "two dogs" becomes "two dog" (quirk 10).
  kOfficialRstripCharacters,
};

/// The answer text after `cleanup`. Whitespace is Python's str.strip() set restricted to ASCII
/// (space, \t, \n, \v, \f, \r, \x1c-\x1f).
std::string clean_answer(const std::string& decoded, AnswerCleanup cleanup = AnswerCleanup::kStripStopString);

}  // namespace btadapter::text
