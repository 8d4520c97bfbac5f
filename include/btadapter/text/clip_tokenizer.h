#pragma once
/// CLIP's byte-level BPE tokenizer, id for id identical to OpenAI's `SimpleTokenizer` (run without
/// ftfy; see clip_text.h for what that changes) on every input, from either vocabulary layout
/// (clip_bpe_vocab.h).
///
///   ClipTokenizer tokenizer(ClipBpeVocab::load("bpe_simple_vocab_16e6.txt.gz"));
///   tokenizer.encode("A photo of a CAT.");   // {320, 1125, 539, 320, 2368, 269}
///   tokenizer.tokenize({"a cat"});           // [[49406, 320, 2368, 49407, 0, ...]]  (1 x 77)
///
/// Thread safety: all methods may be called concurrently; the word cache takes a shared lock.

#include "btadapter/text/clip_bpe_vocab.h"
#include "btadapter/text/tokenizer.h"

#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace btadapter {

class ClipTokenizer : public Tokenizer {
 public:
  /// `framing` defaults to OpenAI's: 77 positions, "openai" truncation, <|startoftext|> and
  /// <|endoftext|> of the vocabulary, padding with 0.
  explicit ClipTokenizer(ClipBpeVocab vocab, TokenFraming framing = {});

  /// BPE ids of the cleaned, pre-tokenised text; a literal `<|startoftext|>` / `<|endoftext|>` in the
  /// text gives the special id, as in OpenAI's code. A pre-token (word) longer than kMaxWordBytes is
  /// refused with a c10::Error quoting its start: no caption holds one, and BPE on a 50 MB word took
  /// 41 s and 3 GB before this bound.
  std::vector<int64_t> encode(const std::string& text) const override;

  /// OpenAI's decode: the tokens' bytes joined, read as UTF-8 with replacement, every `</w>` turned
  /// into a space (so the text ends with a space after a complete word).
  std::string decode(const std::vector<int64_t>& ids) const override;

  int64_t vocab_size() const override { return vocab_.size(); }
  const ClipBpeVocab& vocab() const { return vocab_; }

  /// BPE ids of one pre-token given as UTF-8 bytes (cached for pre-tokens up to kMaxCachedBytes).
  std::vector<int32_t> bpe(const std::string& word) const;

  static constexpr size_t kMaxCachedBytes = 256;   ///< longer pre-tokens are not cached
  static constexpr size_t kMaxWordBytes = 1 << 20;  ///< longer pre-tokens are refused by encode() (1 MiB: about 1 s)
  static constexpr size_t kMaxCacheEntries = 1 << 18;  ///< the cache stops growing here

 private:
  std::vector<int32_t> merge_word(const std::string& word) const;

  ClipBpeVocab vocab_;
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace btadapter
