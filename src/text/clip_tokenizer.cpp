#include "btadapter/text/clip_tokenizer.h"

#include "btadapter/text/clip_text.h"
#include "btadapter/text/utf8.h"
#include "btadapter/io/json_limits.h"

#include <c10/util/Exception.h>

#include <mutex>
#include <queue>

namespace btadapter {
namespace {

// A mergeable pair of adjacent symbols: the pair starting at node `pos` was (left, right) when queued.
struct Candidate {
  int32_t rank;
  int32_t pos;
  int32_t left;
  int32_t right;
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

}  // namespace

ClipTokenizer::ClipTokenizer(ClipBpeVocab vocab, TokenFraming framing)
    : Tokenizer(std::move(framing), vocab.size(), vocab.bos_id(), vocab.eos_id()), vocab_(std::move(vocab)) {}

std::vector<int64_t> ClipTokenizer::encode(const std::string& text) const {
  const std::u32string cleaned = text::clip_clean(text::utf8_decode(text));
  std::vector<int64_t> ids;
  std::string word;
  for (std::u32string_view piece : text::clip_pre_tokenize(cleaned)) {
    word = text::utf8_encode(piece);
    TORCH_CHECK(word.size() <= kMaxWordBytes, "CLIP tokenizer: expected words of at most ", kMaxWordBytes,
                " bytes, got one of ", word.size(), " bytes: '", io::quote_text(word, 40), "'");
    if (word == "<|startoftext|>") {
      ids.push_back(vocab_.bos_id());
    } else if (word == "<|endoftext|>") {
      ids.push_back(vocab_.eos_id());
    } else {
      for (int32_t id : bpe(word)) ids.push_back(id);
    }
  }
  return ids;
}

std::string ClipTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string bytes;
  for (int64_t id : ids) bytes += vocab_.token_bytes(id);
  const std::string sanitized = text::utf8_sanitize(bytes);
  // Copied piecewise: replacing in place moves the whole tail per word (quadratic: 800k ids took 22 s).
  static constexpr std::string_view kWordEnd = "</w>";
  std::string text;
  text.reserve(sanitized.size());
  size_t from = 0;
  for (size_t at = sanitized.find(kWordEnd); at != std::string::npos; at = sanitized.find(kWordEnd, from)) {
    text.append(sanitized, from, at - from).push_back(' ');
    from = at + kWordEnd.size();
  }
  text.append(sanitized, from, std::string::npos);
  return text;
}

std::vector<int32_t> ClipTokenizer::bpe(const std::string& word) const {
  const bool cacheable = word.size() <= kMaxCachedBytes;
  if (cacheable) {
    std::shared_lock<std::shared_mutex> lock(cache_mutex_);
    auto it = cache_.find(word);
    if (it != cache_.end()) return it->second;
  }
  std::vector<int32_t> ids = merge_word(word);
  if (cacheable) {
    std::unique_lock<std::shared_mutex> lock(cache_mutex_);
    if (cache_.size() < kMaxCacheEntries) cache_.emplace(word, ids);
  }
  return ids;
}

// OpenAI's bpe(): repeatedly take the lowest-ranked adjacent pair present and merge all its
// occurrences left to right. Done with a heap ordered by (rank, position) so that a 1 MB word costs
// O(n log n), not O(n^2): all queued pairs of the lowest rank are merged as one pass, and the pairs
// that pass creates are queued only after it (a new pair may rank lower, but Python finishes the pass
// first). Stale queue entries are skipped by checking the symbols they were queued with.
std::vector<int32_t> ClipTokenizer::merge_word(const std::string& word) const {
  const auto n = static_cast<int32_t>(word.size());
  if (n == 0) return {};
  std::vector<int32_t> symbols(n), next(n), prev(n);
  std::vector<bool> alive(n, true);
  for (int32_t i = 0; i < n; ++i) {
    symbols[i] = vocab_.byte_id(static_cast<uint8_t>(word[i]), i == n - 1);
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto enqueue = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    if (const auto* merge = vocab_.find_merge(symbols[pos], symbols[next[pos]])) {
      queue.push({merge->rank, pos, symbols[pos], symbols[next[pos]]});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) enqueue(i);
  std::vector<Candidate> pass;
  std::vector<int32_t> merged_at;
  while (!queue.empty()) {
    pass.clear();
    const int32_t rank = queue.top().rank;
    while (!queue.empty() && queue.top().rank == rank) {
      pass.push_back(queue.top());
      queue.pop();
    }
    merged_at.clear();
    for (const Candidate& c : pass) {
      const int32_t right = next[c.pos];
      if (!alive[c.pos] || symbols[c.pos] != c.left || right < 0 || symbols[right] != c.right) continue;
      symbols[c.pos] = vocab_.find_merge(c.left, c.right)->merged;
      alive[right] = false;
      next[c.pos] = next[right];
      if (next[right] >= 0) prev[next[right]] = c.pos;
      merged_at.push_back(c.pos);
    }
    for (int32_t pos : merged_at) {
      enqueue(prev[pos]);
      enqueue(pos);
    }
  }
  std::vector<int32_t> ids;
  for (int32_t pos = 0; pos >= 0; pos = next[pos]) ids.push_back(symbols[pos]);
  return ids;
}

}  // namespace btadapter
