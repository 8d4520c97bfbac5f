#pragma once
// The conversation fixtures' toy LLaMA vocabulary (config.json "tokenizer": <unk>, <s>, </s>, 256 byte
// pieces, then the listed pieces) written as a SentencePiece unigram model with byte fallback and
// LLaMA's normalizer (dummy prefix, whitespace kept and escaped). Every normal piece scores -1, so the
// Viterbi segmentation is the one with the fewest pieces. The fixture ids (inf.input_ids,
// train.input_ids) are the check that this reproduces the toy's segmentation.

#include "support/test_support.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

namespace btadapter::testing {

namespace toy_proto {

inline void varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

inline void field_varint(std::string& out, int field, uint64_t value) {
  varint(out, static_cast<uint64_t>(field) << 3);
  varint(out, value);
}

inline void field_bytes(std::string& out, int field, const std::string& bytes) {
  varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  varint(out, bytes.size());
  out += bytes;
}

inline void field_float(std::string& out, int field, float value) {
  varint(out, (static_cast<uint64_t>(field) << 3) | 5);
  char raw[4];
  std::memcpy(raw, &value, 4);
  out.append(raw, 4);
}

// ModelProto.SentencePiece: piece = 1, score = 2, type = 3 (NORMAL 1, UNKNOWN 2, CONTROL 3, BYTE 6).
inline std::string piece(const std::string& text, float score, int type) {
  std::string out;
  field_bytes(out, 1, text);
  field_float(out, 2, score);
  field_varint(out, 3, static_cast<uint64_t>(type));
  return out;
}

}  // namespace toy_proto

/// Writes the toy vocabulary of `config_json` (a conversation fixture's config.json) as a
/// SentencePiece model at `model_path`; returns its piece count (config "base_vocab_size").
inline int64_t write_toy_llama_model(const std::filesystem::path& config_json, const std::filesystem::path& model_path) {
  using namespace toy_proto;
  std::ifstream in(config_json);
  const nlohmann::json tokenizer = nlohmann::json::parse(in).at("tokenizer");
  std::map<int64_t, std::string> normal;
  for (const auto& [text, id] : tokenizer.at("pieces").items()) normal[id.get<int64_t>()] = text;
  const int64_t base = tokenizer.at("base_vocab_size").get<int64_t>();
  std::string model;
  field_bytes(model, 1, piece("<unk>", 0, 2));
  field_bytes(model, 1, piece("<s>", 0, 3));
  field_bytes(model, 1, piece("</s>", 0, 3));
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    field_bytes(model, 1, piece(name, 0, 6));
  }
  for (int64_t id = 259; id < base; ++id) field_bytes(model, 1, piece(normal.at(id), -1, 1));
  std::string trainer;  // TrainerSpec: model_type = 3 (UNIGRAM 1), vocab_size = 4, byte_fallback = 35
  field_varint(trainer, 3, 1);
  field_varint(trainer, 4, static_cast<uint64_t>(base));
  field_varint(trainer, 35, 1);
  field_bytes(model, 2, trainer);
  std::string normalizer;  // NormalizerSpec: name = 1, add_dummy_prefix = 3, remove_extra_whitespaces = 4,
                           // escape_whitespaces = 5
  field_bytes(normalizer, 1, "identity");
  field_varint(normalizer, 3, 1);
  field_varint(normalizer, 4, 0);
  field_varint(normalizer, 5, 1);
  field_bytes(model, 3, normalizer);
  std::ofstream(model_path, std::ios::binary) << model;
  return base;
}

}  // namespace btadapter::testing
