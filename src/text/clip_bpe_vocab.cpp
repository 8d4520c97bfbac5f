#include "btadapter/text/clip_bpe_vocab.h"

#include "btadapter/io/json_limits.h"
#include "btadapter/text/utf8.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace btadapter {
namespace {

namespace fs = std::filesystem;
using Merges = std::vector<std::pair<std::string, std::string>>;

// bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the 68 others take U+0100 onwards
// in byte order.
const std::array<char32_t, 256>& byte_chars() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

// OpenAI's vocabulary order of the 256 bytes: the printable ones first, then the others.
std::vector<uint8_t> openai_byte_order() {
  std::vector<uint8_t> order;
  for (int pass = 0; pass < 2; ++pass) {
    for (int b = 0; b < 256; ++b) {
      const bool printable = byte_chars()[b] == static_cast<char32_t>(b);
      if (printable == (pass == 0)) order.push_back(static_cast<uint8_t>(b));
    }
  }
  return order;
}

std::string byte_token(uint8_t b) {
  std::string s;
  text::utf8_append(clip_byte_char(b), s);
  return s;
}

std::string read_gzip_or_plain(const std::string& path) {
  TORCH_CHECK(fs::is_regular_file(path), "CLIP vocabulary: file not found: ", path);
  gzFile file = gzopen(path.c_str(), "rb");
  TORCH_CHECK(file, "CLIP vocabulary: cannot open ", path);
  std::string text;
  std::vector<char> buffer(1 << 16);
  int n;
  while ((n = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0) {
    // Bounded while inflating: a gzip bomb (2 GB from a few MB) is refused after kMaxVocabBytes, not at the end.
    if (text.size() + static_cast<size_t>(n) > ClipBpeVocab::kMaxVocabBytes) {
      gzclose(file);
      TORCH_CHECK(false, "CLIP vocabulary: ", path, " inflates to more than ", ClipBpeVocab::kMaxVocabBytes,
                  " bytes (OpenAI's bpe_simple_vocab_16e6.txt is 3.2 MB): not a vocabulary, or a gzip bomb");
    }
    text.append(buffer.data(), n);
  }
  // A truncated stream still ends with n == 0, but leaves Z_BUF_ERROR behind.
  int error = Z_OK;
  const std::string message = gzerror(file, &error);
  gzclose(file);
  TORCH_CHECK(n == 0 && error == Z_OK, "CLIP vocabulary: corrupt gzip data in ", path, " (zlib: ", message, ")");
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "CLIP vocabulary: cannot open ", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Whitespace-separated fields of one line (Python's str.split() on ASCII whitespace).
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (true) {
    pos = line.find_first_not_of(" \t\r\v\f", pos);
    if (pos == std::string_view::npos) return fields;
    const size_t end = std::min(line.find_first_of(" \t\r\v\f", pos), line.size());
    fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
}

// Merges from a merges file: line 1 is a header; then "left right" per line, at most `max_merges`. A
// blank line may only end the file.
Merges parse_merges(std::string_view text, const std::string& source, int64_t max_merges) {
  Merges merges;
  size_t newline = text.find('\n');
  TORCH_CHECK(!text.empty(), "CLIP vocabulary: ", source, " is empty, expected a header line and merges");
  int64_t line_number = 1;
  while (newline != std::string_view::npos && static_cast<int64_t>(merges.size()) < max_merges) {
    const size_t begin = newline + 1;
    newline = text.find('\n', begin);
    const std::string_view line = text.substr(begin, newline == std::string_view::npos ? text.npos : newline - begin);
    ++line_number;
    const auto fields = split_fields(line);
    if (fields.empty() && text.find_first_not_of(" \t\r\v\f\n", begin) == std::string_view::npos) break;
    TORCH_CHECK(fields.size() == 2, "CLIP vocabulary: ", source, " line ", line_number,
                ": expected a merge of two space-separated symbols, got '",
                text::utf8_sanitize(line.substr(0, 80)), line.size() > 80 ? "...'" : "'");
    merges.emplace_back(fields[0], fields[1]);
  }
  TORCH_CHECK(!merges.empty(), "CLIP vocabulary: ", source, " has no merges after its header");
  return merges;
}

}  // namespace

char32_t clip_byte_char(uint8_t b) { return byte_chars()[b]; }

ClipBpeVocab ClipBpeVocab::load(const std::string& path) {
  fs::path p(path);
  TORCH_CHECK(!path.empty(), "CLIP vocabulary: expected a vocabulary path, got an empty string");
  if (fs::is_directory(p)) {
    if (fs::exists(p / "vocab.json")) return load((p / "vocab.json").string());
    if (fs::exists(p / "bpe_simple_vocab_16e6.txt.gz")) return load((p / "bpe_simple_vocab_16e6.txt.gz").string());
    TORCH_CHECK(false, "CLIP vocabulary: folder ", path,
                " has neither vocab.json + merges.txt nor bpe_simple_vocab_16e6.txt.gz");
  }
  if (p.extension() == ".json") {
    TORCH_CHECK(fs::is_regular_file(p), "CLIP vocabulary: file not found: ", path);
    const fs::path merges = p.parent_path() / "merges.txt";
    TORCH_CHECK(fs::is_regular_file(merges), "CLIP vocabulary: ", path, " needs merges.txt beside it, not found at ",
                merges.string());
    return from_hf(read_file(path), read_file(merges.string()), path);
  }
  return from_openai_merges(read_gzip_or_plain(path), path);
}

ClipBpeVocab ClipBpeVocab::from_openai_merges(const std::string& text, const std::string& source,
                                              int64_t max_merges) {
  const Merges merges = parse_merges(text, source, max_merges);
  ClipBpeVocab vocab;
  for (int word_end = 0; word_end < 2; ++word_end) {
    for (uint8_t b : openai_byte_order()) vocab.tokens_.push_back(byte_token(b) + (word_end ? "</w>" : ""));
  }
  for (const auto& merge : merges) vocab.tokens_.push_back(merge.first + merge.second);
  vocab.tokens_.push_back("<|startoftext|>");
  vocab.tokens_.push_back("<|endoftext|>");
  // Python's dict(zip(vocab, range(len(vocab)))): a repeated token keeps its last id.
  std::unordered_map<std::string, int32_t> ids;
  for (size_t i = 0; i < vocab.tokens_.size(); ++i) ids[vocab.tokens_[i]] = static_cast<int32_t>(i);
  vocab.index(ids, merges, source);
  return vocab;
}

ClipBpeVocab ClipBpeVocab::from_hf(const std::string& vocab_json, const std::string& merges_txt,
                                   const std::string& source) {
  const nlohmann::json j = io::parse_json_bounded(vocab_json, "CLIP vocabulary: " + source + " is not valid JSON");
  TORCH_CHECK(j.is_object() && !j.empty(), "CLIP vocabulary: ", source,
              " must be a JSON object of token -> id, got ", j.type_name());
  std::unordered_map<std::string, int32_t> ids;
  int64_t largest = -1;
  for (const auto& item : j.items()) {
    TORCH_CHECK(item.value().is_number_integer() && item.value().get<int64_t>() >= 0 &&
                    item.value().get<int64_t>() < (int64_t(1) << 31),
                "CLIP vocabulary: ", source, " key '", io::quote_text(item.key()),
                "': expected a non-negative integer id, got ", io::json_quote(item.value()));
    ids[item.key()] = item.value().get<int32_t>();
    largest = std::max<int64_t>(largest, item.value().get<int64_t>());
  }
  // Dense ids 0..N-1, as HF writes them; a stray huge id would otherwise size the table (up to 2^31 strings).
  TORCH_CHECK(largest < static_cast<int64_t>(ids.size()), "CLIP vocabulary: ", source, ": id ", largest,
              " is not below the ", ids.size(), " tokens (expected the ids 0..", ids.size() - 1, ")");
  ClipBpeVocab vocab;
  vocab.tokens_.assign(static_cast<size_t>(largest + 1), std::string());
  for (const auto& [token, id] : ids) {
    TORCH_CHECK(vocab.tokens_[id].empty(), "CLIP vocabulary: ", source, ": id ", id, " is used by both '",
                io::quote_text(vocab.tokens_[id]), "' and '", io::quote_text(token), "'");
    vocab.tokens_[id] = token;
  }
  const std::string merges_source = (fs::path(source).parent_path() / "merges.txt").string();
  vocab.index(ids, parse_merges(merges_txt, merges_source, kOpenAIMerges), merges_source);
  return vocab;
}

void ClipBpeVocab::index(const std::unordered_map<std::string, int32_t>& ids, const Merges& merges,
                         const std::string& source) {
  const auto find = [&](const std::string& token) {
    auto it = ids.find(token);
    return it == ids.end() ? -1 : it->second;
  };
  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = find(byte_token(static_cast<uint8_t>(b)));
    byte_end_ids_[b] = find(byte_token(static_cast<uint8_t>(b)) + "</w>");
    TORCH_CHECK(byte_ids_[b] >= 0 && byte_end_ids_[b] >= 0, "CLIP vocabulary: ", source,
                " lacks the token of byte ", b, " ('", byte_token(static_cast<uint8_t>(b)), "' or with </w>)");
  }
  bos_id_ = find("<|startoftext|>");
  eos_id_ = find("<|endoftext|>");
  TORCH_CHECK(bos_id_ >= 0 && eos_id_ >= 0, "CLIP vocabulary: ", source,
              " lacks <|startoftext|> or <|endoftext|>");
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const int32_t left_id = find(left), right_id = find(right), merged = find(left + right);
    TORCH_CHECK(merged >= 0, "CLIP vocabulary: ", source, " line ", static_cast<int64_t>(rank) + 2, ": the merge '", left, " ", right,
                "' makes '", left + right, "', which is not in the vocabulary");
    // A pair whose halves are not tokens can never be formed; Python's dict keeps the last rank.
    if (left_id >= 0 && right_id >= 0) merges_[pair_key(left_id, right_id)] = Merge{static_cast<int32_t>(rank), merged};
  }
  std::array<int, 0x200> byte_of{};
  byte_of.fill(-1);
  for (int b = 0; b < 256; ++b) byte_of[clip_byte_char(static_cast<uint8_t>(b))] = b;
  token_bytes_.assign(tokens_.size(), std::string());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    for (char32_t c : text::utf8_decode(tokens_[id])) {
      TORCH_CHECK(c < byte_of.size() && byte_of[c] >= 0, "CLIP vocabulary: ", source, ": token '", io::quote_text(tokens_[id]),
                  "' (id ", id, ") is not made of byte-level BPE characters");
      token_bytes_[id].push_back(static_cast<char>(byte_of[c]));
    }
  }
}

const std::string& ClipBpeVocab::token(int64_t id) const {
  TORCH_CHECK(id >= 0 && id < size(), "CLIP vocabulary: expected an id in [0, ", size(), "), got ", id);
  return tokens_[id];
}

const std::string& ClipBpeVocab::token_bytes(int64_t id) const {
  TORCH_CHECK(id >= 0 && id < size(), "CLIP vocabulary: expected an id in [0, ", size(), "), got ", id);
  return token_bytes_[id];
}

}  // namespace btadapter
