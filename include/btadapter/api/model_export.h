#pragma once
/// Exporting a loaded model as one self-contained libbtadapter model file (bt_export is the CLI).
///
/// The file is a safetensors file whose tensor names are the official BT-Adapter state-dict keys
/// (`backbone.*`, `text_backbone.*`, `extra_proj.*`), so the Python reference code loads it with
///   model.load_state_dict(safetensors.torch.load_file(path), strict=False)
/// and whose metadata holds what libbtadapter needs to rebuild the model:
///   "btadapter.config"                  the resolved ModelConfig as JSON (tokenizer vocab = the
///                                        resolved vocabulary path, truncation and fusion as loaded)
///   "btadapter.format_version"          io::kModelFileFormatVersion
///   "btadapter.golden"                  golden embeddings (api/golden.h), computed with the weights as
///                                        stored (after rounding to the export dtype)
///   "btadapter.tokenizer.vocab_file"    the vocabulary's file name (a copy beside the model file is
///                                        found when the stored path is gone)
///   "btadapter.tokenizer.vocab_sha256"  its SHA-256 (files only)
///   "btadapter.weights_dtype"           float32 / float16 / bfloat16
///   "btadapter.source"                  the file the model was loaded from
///   "format"                            "pt" (what Hugging Face's loaders expect)
/// plus ExportOptions::metadata. The file is written atomically (temp file + rename).
///
/// Usage:
///   auto model = Model::load("official.safetensors", LoadOptions().vocab("bpe_simple_vocab_16e6.txt.gz"));
///   api::export_model(*model, "btadapter-l14.safetensors", api::ExportOptions().dtype(torch::kHalf));
///
/// Thread safety: reads the model only; safe alongside inference calls on the same model.

#include "btadapter/btadapter.h"

#include <torch/arg.h>

#include <string>

namespace btadapter::api {

struct ExportOptions {
  /// Dtype of the stored floating-point weights: kFloat, kHalf or kBFloat16; default kFloat.
  TORCH_ARG(torch::ScalarType, dtype) = torch::kFloat;
  /// Store golden embeddings (costs one small forward pass); default true.
  TORCH_ARG(bool, golden) = true;
  /// Extra string metadata (provenance); keys starting with "btadapter." are reserved; default none.
  TORCH_ARG(io::Metadata, metadata) = {};
};

/// What was written.
struct ExportSummary {
  int64_t tensors = 0;     ///< tensors in the file
  int64_t parameters = 0;  ///< their total element count
  bool golden = false;     ///< golden embeddings stored
};

/// Writes `model` to `path` (see the file comment). Throws c10::Error naming the path and the problem.
ExportSummary export_model(const Model& model, const std::string& path, const ExportOptions& options = {});

}  // namespace btadapter::api
