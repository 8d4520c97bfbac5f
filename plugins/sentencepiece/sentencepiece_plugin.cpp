// libbtadapter_sentencepiece: the SentencePiece plugin that libbtadapter dlopen()s (see
// src/text/sentencepiece_plugin.h for why it is not linked directly). Only this file includes
// sentencepiece headers.

#include "text/sentencepiece_plugin.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <exception>
#include <unordered_map>

namespace btadapter::text::plugin {
namespace {

class Model final : public SentencePieceModel {
 public:
  bool load(const std::string& serialized, std::string& error) {
    const auto status = processor_.LoadFromSerializedProto(serialized);
    if (!status.ok()) error = status.ToString();
    return status.ok();
  }

  bool encode(const std::string& text, std::vector<int>& ids, std::string& error) const override {
    const auto status = processor_.Encode(text, &ids);
    if (!status.ok()) error = status.ToString();
    return status.ok();
  }

  bool decode(const std::vector<int>& ids, std::string& text, std::string& error) const override {
    const auto status = processor_.Decode(ids, &text);
    if (!status.ok()) error = status.ToString();
    return status.ok();
  }

  int piece_size() const override { return processor_.GetPieceSize(); }
  int bos_id() const override { return processor_.bos_id(); }
  int eos_id() const override { return processor_.eos_id(); }

 private:
  sentencepiece::SentencePieceProcessor processor_;
};

// Feeds the trainer from memory, so the library reads (and validates) the caption file itself.
class Sentences final : public sentencepiece::SentenceIterator {
 public:
  explicit Sentences(const std::vector<std::string>& sentences) : sentences_(sentences) {}
  bool done() const override { return index_ >= sentences_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return sentences_[index_]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  const std::vector<std::string>& sentences_;
  size_t index_ = 0;
};

std::unique_ptr<SentencePieceModel> load(const std::string& serialized, std::string& error) {
  try {
    auto model = std::make_unique<Model>();
    if (!model->load(serialized, error)) return nullptr;
    return model;
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
}

bool train(const std::vector<std::string>& sentences, const std::vector<std::pair<std::string, std::string>>& flags,
           std::string& serialized, std::string& error) {
  try {
    std::unordered_map<std::string, std::string> kwargs(flags.begin(), flags.end());
    Sentences iterator(sentences);
    const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs, &iterator, &serialized);
    if (!status.ok()) error = status.ToString();
    return status.ok();
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

constexpr SentencePieceApi kApi{kSentencePieceAbiVersion, &load, &train};

}  // namespace
}  // namespace btadapter::text::plugin

extern "C" __attribute__((visibility("default"))) const btadapter::text::plugin::SentencePieceApi*
btadapter_sentencepiece_api() {
  return &btadapter::text::plugin::kApi;
}
