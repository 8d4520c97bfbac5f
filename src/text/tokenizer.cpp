#include "btadapter/text/tokenizer.h"

#include "btadapter/text/clip_tokenizer.h"
#include "btadapter/text/sentencepiece_tokenizer.h"

#include <c10/util/Exception.h>

#include <algorithm>

namespace btadapter {
namespace {

constexpr std::string_view kOfficialPrefix = "official:";

int64_t resolve_special(int64_t requested, int64_t vocabulary_default) {
  if (requested != TokenFraming::kVocabularyDefault) return requested;
  return vocabulary_default >= 0 ? vocabulary_default : TokenFraming::kNoToken;
}

void check_id(int64_t id, const char* name, int64_t vocab_size, bool may_be_none) {
  TORCH_CHECK((id >= 0 && id < vocab_size) || (may_be_none && id == TokenFraming::kNoToken), "tokenizer: expected ",
              name, " in [0, ", vocab_size, ")", may_be_none ? ", -1 (the vocabulary's own) or -2 (none)" : "",
              ", got ", id);
}

}  // namespace

Truncation Truncation::parse(const std::string& spec) {
  if (spec == "openai") return {};
  const std::string expected = "tokenizer: expected truncate 'openai' or 'official:N' with N > 0, got '" + spec + "'";
  TORCH_CHECK(spec.compare(0, kOfficialPrefix.size(), kOfficialPrefix) == 0, expected);
  const std::string digits = spec.substr(kOfficialPrefix.size());
  TORCH_CHECK(!digits.empty() && digits.size() <= 9 && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }), expected);
  const int64_t slice = std::stoll(digits);
  TORCH_CHECK(slice > 0, expected);
  return {Mode::kOfficial, slice};
}

std::string Truncation::to_string() const {
  return mode == Mode::kOpenAI ? "openai" : std::string(kOfficialPrefix) + std::to_string(slice);
}

int64_t TokenFraming::output_length() const {
  return truncation.mode == Truncation::Mode::kOfficial ? truncation.slice : context_length;
}

std::vector<int64_t> TokenFraming::frame(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> row;
  row.reserve(std::min<size_t>(ids.size() + 2, static_cast<size_t>(context_length)));
  if (bos_id >= 0) row.push_back(bos_id);
  row.insert(row.end(), ids.begin(), ids.begin() + std::min<int64_t>(ids.size(), context_length));
  if (eos_id >= 0) row.push_back(eos_id);
  if (static_cast<int64_t>(row.size()) > context_length) {
    // OpenAI: tokens[:context_length], then the last slot holds eot.
    row.resize(context_length);
    if (eos_id >= 0) row.back() = eos_id;
  }
  if (static_cast<int64_t>(row.size()) > output_length()) row.resize(output_length());  // official slice
  return row;
}

Tokenizer::Tokenizer(TokenFraming framing, int64_t vocab_size, int64_t default_bos, int64_t default_eos)
    : framing_(std::move(framing)) {
  framing_.bos_id = resolve_special(framing_.bos_id, default_bos);
  framing_.eos_id = resolve_special(framing_.eos_id, default_eos);
  check_id(framing_.bos_id, "bos_id", vocab_size, true);
  check_id(framing_.eos_id, "eos_id", vocab_size, true);
  check_id(framing_.pad_id, "pad_id", vocab_size, false);
  const int64_t specials = (framing_.bos_id >= 0) + (framing_.eos_id >= 0);
  TORCH_CHECK(framing_.context_length >= std::max<int64_t>(1, specials), "tokenizer: expected context_length >= ",
              std::max<int64_t>(1, specials), ", got ", framing_.context_length);
  TORCH_CHECK(framing_.truncation.mode == Truncation::Mode::kOpenAI ||
                  (framing_.truncation.slice >= 1 && framing_.truncation.slice <= framing_.context_length),
              "tokenizer: expected 'official:N' with 1 <= N <= context_length (", framing_.context_length, "), got '",
              framing_.truncation.to_string(), "'");
}

torch::Tensor Tokenizer::tokenize(const std::vector<std::string>& texts) const {
  const int64_t length = framing_.output_length();
  torch::Tensor ids = torch::full({static_cast<int64_t>(texts.size()), length}, framing_.pad_id, torch::kInt64);
  auto rows = ids.accessor<int64_t, 2>();
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int64_t> row = frame(texts[i]);
    for (size_t j = 0; j < row.size(); ++j) rows[i][j] = row[j];
  }
  return ids;
}

std::unique_ptr<Tokenizer> make_tokenizer(const TokenizerConfig& config) {
  TORCH_CHECK(!config.vocab.empty(), "tokenizer config: expected 'vocab' (the ", config.kind,
              " vocabulary file), got an empty path");
  TokenFraming framing;
  framing.context_length = config.context_length;
  framing.truncation = Truncation::parse(config.truncate);
  framing.bos_id = config.bos_id;
  framing.eos_id = config.eos_id;
  const std::string& v = config.vocab;
  const bool sentencepiece_file = v.size() > 6 && v.compare(v.size() - 6, 6, ".model") == 0;
  if (config.kind == "sentencepiece" || (config.kind == "clip_bpe" && sentencepiece_file)) {
    return std::make_unique<SentencePieceTokenizer>(config.vocab, framing);
  }
  if (config.kind == "clip_bpe") return std::make_unique<ClipTokenizer>(ClipBpeVocab::load(config.vocab), framing);
  TORCH_CHECK(false, "tokenizer config: expected kind 'clip_bpe' or 'sentencepiece', got '", config.kind, "'");
}

}  // namespace btadapter
