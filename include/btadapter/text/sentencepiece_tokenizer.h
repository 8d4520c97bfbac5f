#pragma once
/// SentencePiece tokenizers: a `.model` file behind the Tokenizer interface, and training one from a
/// caption file (the embedded default demo has no pretrained CLIP and trains its own vocabulary).
///
///   train_sentencepiece(SentencePieceTrainOptions("captions.txt", "demo.model", 500));
///   SentencePieceTokenizer tokenizer("demo.model");        // bos/eos from the model, 77 positions
///   torch::Tensor ids = tokenizer.tokenize({"a dog runs"});  // [1, 77] int64
///
/// The sentencepiece library is used through a plugin (libbtadapter_sentencepiece.so, loaded at run
/// time from the folder of libbtadapter.so or from $BTADAPTER_SENTENCEPIECE_PLUGIN), because Debian's
/// libsentencepiece cannot be linked into a process beside LibTorch. Without the plugin these calls
/// throw c10::Error saying where it was looked for; the rest of the library works.
///
/// Thread safety: SentencePieceTokenizer's const methods may be called concurrently.

#include "btadapter/text/tokenizer.h"

#include <memory>
#include <string>
#include <vector>

namespace btadapter {

namespace text::plugin {
class SentencePieceModel;
}

class SentencePieceTokenizer : public Tokenizer {
 public:
  /// Loads `model_path` (a serialized sentencepiece ModelProto). In `framing`, kVocabularyDefault
  /// bos/eos take the model's bos_id / eos_id (none when the model disables them). Throws c10::Error
  /// naming the file when it is missing or not a model.
  explicit SentencePieceTokenizer(const std::string& model_path, TokenFraming framing = {});
  ~SentencePieceTokenizer() override;

  /// Ids of `text` (invalid UTF-8 replaced by U+FFFD first), without bos/eos.
  std::vector<int64_t> encode(const std::string& text) const override;
  /// The model's detokenisation of `ids`.
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override;

 private:
  SentencePieceTokenizer(std::unique_ptr<text::plugin::SentencePieceModel> model, TokenFraming framing);

  std::unique_ptr<text::plugin::SentencePieceModel> model_;
};

/// Options of train_sentencepiece().
struct SentencePieceTrainOptions {
  SentencePieceTrainOptions(std::string input, std::string model_path, int64_t vocab_size)
      : input_(std::move(input)), model_path_(std::move(model_path)), vocab_size_(vocab_size) {}

  /// Caption file: UTF-8 text, one caption per line; blank lines are skipped.
  TORCH_ARG(std::string, input);
  /// Where the trained model is written (through a temporary file and a rename).
  TORCH_ARG(std::string, model_path);
  /// Pieces in the vocabulary, bos/eos/unk included.
  TORCH_ARG(int64_t, vocab_size);
  /// "unigram" or "bpe"; default "unigram".
  TORCH_ARG(std::string, model_type) = "unigram";
  /// Fraction of characters covered by the vocabulary; default 1.0 (captions are small).
  TORCH_ARG(double, character_coverage) = 1.0;
  /// When false, vocab_size is an upper bound, so small corpora cannot fail for lack of pieces;
  /// default false.
  TORCH_ARG(bool, hard_vocab_limit) = false;
  /// Ids of the special pieces; default unk 0, bos 1, eos 2, no pad (sentencepiece's own defaults).
  TORCH_ARG(int64_t, unk_id) = 0;
  TORCH_ARG(int64_t, bos_id) = 1;
  TORCH_ARG(int64_t, eos_id) = 2;
  TORCH_ARG(int64_t, pad_id) = -1;
  /// Print sentencepiece's training log to stderr; default false.
  TORCH_ARG(bool, verbose) = false;
};

/// Trains a SentencePiece model on the caption file and writes it to options.model_path(). Throws
/// c10::Error naming the file when the input is missing or empty, or when sentencepiece rejects the
/// options (its message is included).
void train_sentencepiece(const SentencePieceTrainOptions& options);

}  // namespace btadapter
