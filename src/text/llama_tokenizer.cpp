#include "btadapter/text/llama_tokenizer.h"

#include "btadapter/text/conversation_template.h"

#include <c10/util/Exception.h>

#include <array>
#include <string_view>

namespace btadapter::text {
namespace {

bool is_python_ascii_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

std::string_view lstrip_space(std::string_view s) {
  while (!s.empty() && is_python_ascii_space(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view rstrip_space(std::string_view s) {
  while (!s.empty() && is_python_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

// A piece of the input: plain text for SentencePiece, or one token split out of it.
struct LlamaSegment {
  std::string_view text;
  int64_t id = -1;           // >= 0: a split-out token
  bool strips_neighbours = false;
};

TokenFraming llama_framing(int64_t context_length) {
  TokenFraming framing;
  framing.context_length = context_length;
  framing.eos_id = TokenFraming::kNoToken;
  return framing;
}

std::unique_ptr<SentencePieceTokenizer> load_llama_model(const std::string& path) {
  TokenFraming framing;  // only its bos/eos resolution is used
  return std::make_unique<SentencePieceTokenizer>(path, framing);
}

}  // namespace

LlamaTokenizer::LlamaTokenizer(const LlamaTokenizerOptions& options)
    : LlamaTokenizer(load_llama_model(options.model_path()), options) {}

LlamaTokenizer::LlamaTokenizer(std::unique_ptr<SentencePieceTokenizer> model, const LlamaTokenizerOptions& options)
    : Tokenizer(llama_framing(options.context_length()), model->vocab_size() + 3, model->framing().bos_id,
                TokenFraming::kNoToken),
      model_(std::move(model)),
      base_vocab_size_(model_->vocab_size()),
      bos_id_(model_->framing().bos_id),
      eos_id_(model_->framing().eos_id),
      unk_id_(options.unk_id()) {
  TORCH_CHECK(bos_id_ >= 0 && eos_id_ >= 0, "LLaMA tokenizer ", options.model_path(),
              ": expected a SentencePiece model with bos and eos pieces, got bos ", bos_id_, ", eos ", eos_id_);
  TORCH_CHECK(unk_id_ >= 0 && unk_id_ < base_vocab_size_, "LLaMA tokenizer: expected unk_id in [0, ",
              base_vocab_size_, "), got ", unk_id_);
}

std::vector<int64_t> LlamaTokenizer::encode(const std::string& text) const {
  struct SplitToken {
    std::string_view text;
    int64_t id;
    bool strips;
  };
  const std::array<SplitToken, 5> split_tokens = {{{kVideoPatchToken, video_patch_id(), true},
                                                   {kVideoStartToken, video_start_id(), true},
                                                   {kVideoEndToken, video_end_id(), true},
                                                   {"<s>", bos_id_, false},
                                                   {"</s>", eos_id_, false}}};
  std::vector<LlamaSegment> segments;
  const std::string_view all(text);
  size_t begin = 0;
  for (size_t pos = 0; pos < all.size();) {
    const SplitToken* match = nullptr;
    if (all[pos] == '<') {
      for (const SplitToken& token : split_tokens) {
        if (all.compare(pos, token.text.size(), token.text) == 0) match = &token;
      }
    }
    if (!match) {
      ++pos;
      continue;
    }
    if (pos > begin) segments.push_back({all.substr(begin, pos - begin)});
    segments.push_back({match->text, match->id, match->strips});
    pos += match->text.size();
    begin = pos;
  }
  if (begin < all.size()) segments.push_back({all.substr(begin)});

  for (size_t i = 0; i < segments.size(); ++i) {
    if (!segments[i].strips_neighbours) continue;
    if (i > 0 && segments[i - 1].id < 0) segments[i - 1].text = rstrip_space(segments[i - 1].text);
    if (i + 1 < segments.size() && segments[i + 1].id < 0) segments[i + 1].text = lstrip_space(segments[i + 1].text);
  }

  std::vector<int64_t> ids;
  for (const LlamaSegment& segment : segments) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
    } else if (!segment.text.empty()) {
      const std::vector<int64_t> piece_ids = model_->encode(std::string(segment.text));
      ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    }
  }
  return ids;
}

std::vector<int64_t> LlamaTokenizer::encode_prompt(const std::string& text) const {
  std::vector<int64_t> ids = {bos_id_};
  const std::vector<int64_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

bool LlamaTokenizer::is_special(int64_t id) const {
  return id == bos_id_ || id == eos_id_ || id == unk_id_ || id >= base_vocab_size_;
}

std::string LlamaTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> kept;
  kept.reserve(ids.size());
  for (int64_t id : ids) {
    TORCH_CHECK(id >= 0 && id < vocab_size(), "LLaMA tokenizer decode: expected ids in [0, ", vocab_size(), "), got ",
                id);
    if (!is_special(id)) kept.push_back(id);
  }
  return model_->decode(kept);
}

std::string clean_answer(const std::string& decoded, AnswerCleanup cleanup) {
  std::string_view text = lstrip_space(rstrip_space(decoded));
  if (cleanup == AnswerCleanup::kOfficialRstripCharacters) {
    while (!text.empty() && std::string_view("</s>").find(text.back()) != std::string_view::npos) text.remove_suffix(1);
  } else {
    constexpr std::string_view kStop = "</s>";
    if (text.size() >= kStop.size() && text.substr(text.size() - kStop.size()) == kStop) {
      text.remove_suffix(kStop.size());
    }
  }
  return std::string(lstrip_space(rstrip_space(text)));
}

}  // namespace btadapter::text
