#pragma once
/// The vocabulary of CLIP's byte-level BPE, read from either of its two published layouts:
///
///  - OpenAI: `bpe_simple_vocab_16e6.txt.gz` (gzip, or the same text uncompressed). Line 0 is a header,
///    lines 1..48894 are merges "left right" in rank order (the file has more; OpenAI uses 48,894).
///    Ids are 0-255 the byte characters in bytes_to_unicode() order, 256-511 the same with `</w>`,
///    then one id per merge (its concatenation), then `<|startoftext|>` and `<|endoftext|>`.
///  - Hugging Face: `vocab.json` (token -> id) with `merges.txt` beside it (`#version: 0.2` header,
///    then the merges).
/// For CLIP both give the same ids.
///
/// Tokens are byte-level strings: each byte of UTF-8 text stands as one printable character
/// (clip_byte_char), so "héllo" is the 6-character string "hÃ©llo".
///
/// Thread safety: immutable after loading; every const method may be called concurrently.

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace btadapter {

/// The printable character OpenAI's bytes_to_unicode() assigns to byte `b`.
char32_t clip_byte_char(uint8_t b);

class ClipBpeVocab {
 public:
  /// Merges OpenAI's tokenizer uses: 49152 - 256 - 2.
  static constexpr int64_t kOpenAIMerges = 48894;
  /// Largest merges file load() reads (after inflating): 64 MiB, 20 times OpenAI's; larger is refused
  /// while inflating, so a gzip bomb costs at most this much memory.
  static constexpr size_t kMaxVocabBytes = size_t{64} << 20;

  /// One merge of two adjacent symbols.
  struct Merge {
    int32_t rank;    ///< priority: lower merges first
    int32_t merged;  ///< id of the concatenated symbol
  };

  /// Loads `path`: a file ending in `.json` is HF vocab.json (merges.txt must be beside it); a folder
  /// holds vocab.json + merges.txt or bpe_simple_vocab_16e6.txt.gz; anything else is an OpenAI merges
  /// file, gzip-compressed or not. Throws c10::Error naming the file (and line or key) when it is
  /// missing, unreadable, corrupt or inconsistent.
  static ClipBpeVocab load(const std::string& path);

  /// From the text of an OpenAI merges file; uses the first `max_merges` merges after the header.
  /// `source` names the data in error messages.
  static ClipBpeVocab from_openai_merges(const std::string& text, const std::string& source,
                                         int64_t max_merges = kOpenAIMerges);

  /// From the contents of HF `vocab.json` and `merges.txt`; like HF's CLIPTokenizer, the first
  /// kOpenAIMerges merges after the `#version` header are used.
  static ClipBpeVocab from_hf(const std::string& vocab_json, const std::string& merges_txt,
                              const std::string& source);

  /// Number of ids (largest id + 1): 49408 for CLIP.
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  /// Number of merges with a rank.
  int64_t num_merges() const { return static_cast<int64_t>(merges_.size()); }
  int64_t bos_id() const { return bos_id_; }  ///< id of `<|startoftext|>`
  int64_t eos_id() const { return eos_id_; }  ///< id of `<|endoftext|>`

  /// The byte-level string of `id` (e.g. "photo</w>"); empty for an id no token uses.
  const std::string& token(int64_t id) const;
  /// The raw bytes `id` stands for, `</w>` kept as those four characters.
  const std::string& token_bytes(int64_t id) const;

  /// Id of byte `b` as a symbol inside a word, or as the last symbol of a word (with `</w>`).
  int32_t byte_id(uint8_t b, bool word_end) const { return word_end ? byte_end_ids_[b] : byte_ids_[b]; }

  /// The merge of symbols `left` `right`, or nullptr.
  const Merge* find_merge(int32_t left, int32_t right) const {
    auto it = merges_.find(pair_key(left, right));
    return it == merges_.end() ? nullptr : &it->second;
  }

 private:
  ClipBpeVocab() = default;
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  // Fills everything but tokens_ from `ids` (token -> id) and the merges in rank order (rank r is on
  // line r + 2 of `source`).
  void index(const std::unordered_map<std::string, int32_t>& ids,
             const std::vector<std::pair<std::string, std::string>>& merges, const std::string& source);

  std::vector<std::string> tokens_;
  std::vector<std::string> token_bytes_;
  std::array<int32_t, 256> byte_ids_{};
  std::array<int32_t, 256> byte_end_ids_{};
  std::unordered_map<uint64_t, Merge> merges_;
  int64_t bos_id_ = -1;
  int64_t eos_id_ = -1;
};

}  // namespace btadapter
