#pragma once
/// libbtadapter's own model file: a safetensors file (canonical tensor names, see weight_naming.h) whose
/// metadata carries everything needed to rebuild the model without the training YAML:
///
///   "btadapter.config"          model_config_to_json(config)
///   "btadapter.format_version"  "1" (kModelFileFormatVersion)
///   "btadapter.tensors_sha256"  tensors_sha256(tensors): names, dtypes, shapes and bytes of every tensor,
///                               verified on load (files written before it existed have none)
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
inline constexpr const char* kModelChecksumKey = "btadapter.tensors_sha256";
/// The version this library writes and the newest it reads.
inline constexpr int kModelFileFormatVersion = 1;

/// A loaded model file.
struct ModelFile {
  ModelConfig config;
  TensorMap tensors;  ///< CPU tensors, as saved
  Metadata metadata;  ///< every metadata entry, the two btadapter.* keys included
};

/// SHA-256 (hex) over every tensor in name order: its name, dtype, shape and bytes. A flipped bit,
/// swapped offsets or a reinterpreted dtype change it, also in tensors the golden check never uses.
std::string tensors_sha256(const TensorMap& tensors);

/// Throws c10::Error naming `path` when `metadata` holds kModelChecksumKey and it differs from
/// tensors_sha256(tensors); does nothing for files without it.
void verify_tensors_sha256(const std::string& path, const Metadata& metadata, const TensorMap& tensors);

/// Validates `config` and writes tensors + metadata atomically. `extra_metadata` must not use the
/// reserved btadapter.* keys above (c10::Error naming the key).
void save_model_file(const std::string& path, const ModelConfig& config, const TensorMap& tensors,
                     const Metadata& extra_metadata = {});

/// Reads a model file. Throws c10::Error naming the file when the config key is missing (a plain
/// weights file: use read_weights_file + infer_model_config instead), when the format version is not an
/// integer or is newer than kModelFileFormatVersion, when the config does not parse or validate, or
/// (unless `verify_checksum` is false) when the tensors do not match their stored checksum.
ModelFile load_model_file(const std::string& path, bool verify_checksum = true);

/// Only the config (reads the header, not the tensors); same errors as load_model_file.
ModelConfig read_model_config(const std::string& path);

}  // namespace btadapter::io
