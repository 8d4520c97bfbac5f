#pragma once
/// Text tokenizers: captions -> token ids for the text tower.
///
///   TokenizerConfig config;                        // kind "clip_bpe", context 77, truncate "openai"
///   config.vocab = "bpe_simple_vocab_16e6.txt.gz";
///   std::unique_ptr<Tokenizer> tokenizer = make_tokenizer(config);
///   torch::Tensor ids = tokenizer->tokenize({"a dog runs", "a cat"});  // [2, 77] int64
///
/// A caption becomes `[bos] + encode(text) + [eos]`, cut and padded as the official code does
/// (reference.md 3.6):
///  - "openai": longer than context_length -> keep the first context_length ids and put eos in the last
///    slot (`tokens[:77]; tokens[-1] = eot`); shorter -> pad with pad_id (0) to context_length.
///  - "official:N": the above, then keep the first N positions (BT-Adapter's `CLIPTokenize`,
///    `tokenize(text)[0][:N]`: a caption longer than N - 2 tokens loses its eos). Bit-compatible with
///    the released training (N = 64) and evaluation (N = 32) pipelines.
///
/// Thread safety: a Tokenizer is immutable after construction (caches are internally locked); every
/// const method may be called from several threads at once.

#include "btadapter/config/model_config.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace btadapter {

/// A truncation rule parsed from TokenizerConfig::truncate.
struct Truncation {
  enum class Mode {
    kOpenAI,    ///< cut to context_length with eos forced last
    kOfficial,  ///< kOpenAI, then slice to `slice` positions (may drop eos)
  };
  Mode mode = Mode::kOpenAI;
  int64_t slice = 0;  ///< kOfficial only: positions kept

  /// Parses "openai" or "official:N" (N > 0); throws c10::Error naming the bad value otherwise.
  static Truncation parse(const std::string& spec);
  /// The spec string parse() accepts.
  std::string to_string() const;
};

/// Turns a caption's ids into one fixed-length model input row.
struct TokenFraming {
  static constexpr int64_t kVocabularyDefault = -1;  ///< bos/eos: the vocabulary's own id
  static constexpr int64_t kNoToken = -2;            ///< bos/eos: none

  int64_t context_length = 77;  ///< length before the official slice; default 77
  Truncation truncation;        ///< default "openai"
  /// Id before the caption; default kVocabularyDefault. A Tokenizer's framing() holds an id or kNoToken.
  int64_t bos_id = kVocabularyDefault;
  /// Id after the caption, forced into the last slot when cut; default kVocabularyDefault.
  int64_t eos_id = kVocabularyDefault;
  int64_t pad_id = 0;           ///< id filling the row after the caption; default 0

  /// Row length: context_length, or N for "official:N".
  int64_t output_length() const;
  /// `[bos] + ids + [eos]` cut by the truncation rule, without padding (negative bos/eos: none).
  std::vector<int64_t> frame(const std::vector<int64_t>& ids) const;
};

/// Abstract tokenizer (CLIP BPE, SentencePiece).
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  /// The ids of one UTF-8 text, without bos/eos and uncut. Invalid UTF-8 is read with U+FFFD
  /// replacing each ill-formed subsequence, so no text makes it throw.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;

  /// Text for `ids` (as the reference implementation decodes them). Throws c10::Error for an id
  /// outside [0, vocab_size()).
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;

  /// Number of ids the vocabulary defines (rows the token embedding needs).
  virtual int64_t vocab_size() const = 0;

  /// The framing used by frame() and tokenize().
  const TokenFraming& framing() const { return framing_; }

  /// `framing().frame(encode(text))`: the model input without padding.
  std::vector<int64_t> frame(const std::string& text) const { return framing_.frame(encode(text)); }

  /// A batch of texts as an int64 tensor [texts.size(), framing().output_length()], padded with
  /// framing().pad_id.
  torch::Tensor tokenize(const std::vector<std::string>& texts) const;

 protected:
  /// Resolves kVocabularyDefault in `framing` to `default_bos` / `default_eos` (negative: none) and
  /// checks it: context_length >= 1 (>= 2 with both bos and eos), 1 <= N <= context_length, every id
  /// in [0, vocab_size). Throws c10::Error naming the bad field.
  Tokenizer(TokenFraming framing, int64_t vocab_size, int64_t default_bos, int64_t default_eos);

 private:
  TokenFraming framing_;
};

/// The tokenizer a model config names: kind "clip_bpe" (ClipTokenizer: OpenAI .txt.gz, HF vocab.json
/// or a folder) or "sentencepiece" (SentencePieceTokenizer: a .model file, through the plugin). A
/// vocabulary whose name ends in `.model` is read as SentencePiece under either kind (the BPE readers
/// cannot read one), so LoadOptions::vocab and bt_tokenize --vocab take one without naming the kind.
/// bos_id / eos_id follow TokenFraming (-1 the vocabulary's own, -2 none). Throws c10::Error naming
/// the bad field or file.
std::unique_ptr<Tokenizer> make_tokenizer(const TokenizerConfig& config);

}  // namespace btadapter
