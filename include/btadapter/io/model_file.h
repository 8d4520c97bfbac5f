#pragma once
/// libbtadapter's own model file: a safetensors file (canonical tensor names, see weight_naming.h) whose
/// metadata carries everything needed to rebuild the model without the training YAML:
///
///   "btadapter.config"          model_config_to_json(config)
///   "btadapter.format_version"  "1" (kModelFileFormatVersion)
///   any extra string metadata the caller adds (provenance, golden checksums, ...)
///
/// The file is written atomically (temp file + rename) and any safetensors reader can open it.
///
/// Usage:
///   save_model_file("model.safetensors", config, state_dict(*model), {{"source", "webvid-2m"}});
///   ModelFile file = load_model_file("model.safetensors");   // file.config, file.tensors
///
/// Thread safety: free functions with no shared state.

#include <string>

#include "btadapter/config/model_config.h"
#include "btadapter/io/safetensors.h"

namespace btadapter::io {

inline constexpr const char* kModelConfigKey = "btadapter.config";
inline constexpr const char* kModelFormatVersionKey = "btadapter.format_version";
/// The version this library writes and the newest it reads.
inline constexpr int kModelFileFormatVersion = 1;

/// A loaded model file.
struct ModelFile {
  ModelConfig config;
  TensorMap tensors;  ///< CPU tensors, as saved
  Metadata metadata;  ///< every metadata entry, the two btadapter.* keys included
};

/// Validates `config` and writes tensors + metadata atomically. `extra_metadata` must not use the
/// reserved btadapter.* keys above (c10::Error naming the key).
void save_model_file(const std::string& path, const ModelConfig& config, const TensorMap& tensors,
                     const Metadata& extra_metadata = {});

/// Reads a model file. Throws c10::Error naming the file when the config key is missing (a plain
/// weights file: use read_weights_file + infer_model_config instead), when the format version is not an
/// integer or is newer than kModelFileFormatVersion, or when the config does not parse or validate.
ModelFile load_model_file(const std::string& path);

/// Only the config (reads the header, not the tensors); same errors as load_model_file.
ModelConfig read_model_config(const std::string& path);

}  // namespace btadapter::io
