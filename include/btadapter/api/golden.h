#pragma once
/// Golden embeddings: a model file carries the embeddings its weights give for a fixed tiny synthetic
/// input (one short video and two captions), and loading re-computes and compares them. A wrong or
/// damaged file, a different tokenizer vocabulary, a wrong head count or a broken build then fails at
/// load time with a clear message instead of silently producing poor retrieval numbers.
///
/// The input is a function of the model's image size only: `golden_video` is a smooth colour pattern
/// that moves between frames (uint8 RGB, then CLIP-normalised), `golden_texts` are two short captions
/// (short enough that no truncation rule changes their ids' pooled position).
///
/// Stored in the metadata under kGoldenKey as JSON:
///   {"version": 1, "frames": 2, "image_size": S, "texts": [...], "video": [[E floats]], "text": [[...], [...]]}
///
/// Comparison: cosine similarity between each stored and re-computed embedding, at least
/// golden_min_cosine(dtype) (0.999 in float32, which absorbs BLAS and TF32 differences; 0.99 in float16
/// and bfloat16). An unrelated model scores near 0.
///
/// Thread safety: free functions without shared state.

#include "btadapter/btadapter.h"

#include <cstdint>
#include <string>
#include <vector>

namespace btadapter::api {

inline constexpr const char* kGoldenKey = "btadapter.golden";

struct GoldenEmbeddings {
  int64_t frames = 2;             ///< frames of the golden video
  int64_t image_size = 0;         ///< its side (the model's image size)
  std::vector<std::string> texts; ///< the captions that were encoded
  torch::Tensor video;            ///< [1, E] float32, L2-normalised
  torch::Tensor text;             ///< [texts, E] float32, L2-normalised
};

/// The golden clip: uint8 [1, frames, 3, size, size] RGB.
torch::Tensor golden_video(int64_t frames, int64_t size);
/// The golden captions.
const std::vector<std::string>& golden_texts();

/// Encodes the golden input with `model`.
GoldenEmbeddings compute_golden(const Model& model);

std::string golden_to_json(const GoldenEmbeddings& golden);
/// Parses golden_to_json's output; errors name `where` (the model file) and the bad key.
GoldenEmbeddings golden_from_json(const std::string& json_text, const std::string& where);

/// 0.999 for float32, 0.99 for float16 and bfloat16.
double golden_min_cosine(torch::ScalarType dtype);

/// Re-computes `golden` with `model` and throws c10::Error naming the model file, the embedding and its
/// cosine similarity when one falls below golden_min_cosine(model.dtype()) (or when sizes disagree).
void verify_golden(const Model& model, const GoldenEmbeddings& golden);

}  // namespace btadapter::api
