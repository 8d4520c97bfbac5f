#include "btadapter/text/sentencepiece_tokenizer.h"

#include "btadapter/text/utf8.h"
#include "sentencepiece_plugin.h"

#include <c10/util/Exception.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace btadapter {
namespace {

namespace fs = std::filesystem;
using text::plugin::sentencepiece_api;
using text::plugin::SentencePieceModel;

std::string read_model_file(const std::string& path) {
  TORCH_CHECK(fs::is_regular_file(path), "SentencePiece model: file not found: ", path);
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "SentencePiece model: cannot open ", path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::unique_ptr<SentencePieceModel> load_model(const std::string& path) {
  const std::string bytes = read_model_file(path);
  std::string error;
  auto model = sentencepiece_api().load(bytes, error);
  TORCH_CHECK(model, "SentencePiece model ", path, ": expected a serialized sentencepiece model, ", error);
  return model;
}

// The captions of `path`, one per line (blank lines skipped, invalid UTF-8 replaced).
std::vector<std::string> read_captions(const std::string& path) {
  TORCH_CHECK(fs::is_regular_file(path), "SentencePiece training: caption file not found: ", path);
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "SentencePiece training: cannot open ", path);
  std::vector<std::string> captions;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    captions.push_back(text::utf8_sanitize(line));
  }
  TORCH_CHECK(!captions.empty(), "SentencePiece training: ", path, " has no captions (expected one per line)");
  return captions;
}

void write_atomically(const std::string& path, const std::string& bytes) {
  const fs::path target(path);
  const fs::path temp = target.string() + ".tmp" + std::to_string(std::random_device{}());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    TORCH_CHECK(out, "SentencePiece training: cannot write ", temp.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    TORCH_CHECK(out.flush(), "SentencePiece training: failed writing ", temp.string());
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) fs::remove(temp);
  TORCH_CHECK(!ec, "SentencePiece training: cannot move the model to ", path, " (", ec.message(), ")");
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path, TokenFraming framing)
    : SentencePieceTokenizer(load_model(model_path), std::move(framing)) {}

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<SentencePieceModel> model, TokenFraming framing)
    : Tokenizer(std::move(framing), model->piece_size(), model->bos_id(), model->eos_id()), model_(std::move(model)) {}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  std::string error;
  TORCH_CHECK(model_->encode(text::utf8_sanitize(text), ids, error), "SentencePiece encode failed: ", error);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> narrow;
  narrow.reserve(ids.size());
  for (int64_t id : ids) {
    TORCH_CHECK(id >= 0 && id < vocab_size(), "SentencePiece decode: expected ids in [0, ", vocab_size(), "), got ", id);
    narrow.push_back(static_cast<int>(id));
  }
  std::string text, error;
  TORCH_CHECK(model_->decode(narrow, text, error), "SentencePiece decode failed: ", error);
  return text;
}

int64_t SentencePieceTokenizer::vocab_size() const { return model_->piece_size(); }

void train_sentencepiece(const SentencePieceTrainOptions& options) {
  const std::vector<std::string> captions = read_captions(options.input());
  const std::vector<std::pair<std::string, std::string>> flags = {
      {"model_type", options.model_type()},
      {"vocab_size", std::to_string(options.vocab_size())},
      {"character_coverage", std::to_string(options.character_coverage())},
      {"hard_vocab_limit", options.hard_vocab_limit() ? "true" : "false"},
      {"unk_id", std::to_string(options.unk_id())},
      {"bos_id", std::to_string(options.bos_id())},
      {"eos_id", std::to_string(options.eos_id())},
      {"pad_id", std::to_string(options.pad_id())},
      {"minloglevel", options.verbose() ? "0" : "2"},
  };
  std::string serialized, error;
  TORCH_CHECK(sentencepiece_api().train(captions, flags, serialized, error), "SentencePiece training on ",
              options.input(), " (", captions.size(), " captions, vocab_size ", options.vocab_size(),
              ") failed: ", error);
  write_atomically(options.model_path(), serialized);
}

}  // namespace btadapter
