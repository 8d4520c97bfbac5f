#include "btadapter/io/model_file.h"

#include <torch/torch.h>

#include <sstream>

#include "btadapter/io/sha256.h"

namespace btadapter::io {
namespace {

/// The config stored in a model file's metadata, checked against the format version.
ModelConfig config_from_metadata(const std::string& path, const Metadata& metadata) {
  auto config = metadata.find(kModelConfigKey);
  TORCH_CHECK(config != metadata.end(), "'", path, "' is not a btadapter model file: metadata key '",
              kModelConfigKey, "' is missing (for plain weights use read_weights_file and infer_model_config)");
  auto version = metadata.find(kModelFormatVersionKey);
  TORCH_CHECK(version != metadata.end(), "model file '", path, "': metadata key '", kModelFormatVersionKey,
              "' is missing");
  int number = 0;
  try {
    size_t used = 0;
    number = std::stoi(version->second, &used);
    TORCH_CHECK(used == version->second.size(), "trailing characters");
  } catch (const std::exception&) {
    TORCH_CHECK(false, "model file '", path, "': expected an integer ", kModelFormatVersionKey, ", got '",
                version->second, "'");
  }
  TORCH_CHECK(number >= 1 && number <= kModelFileFormatVersion, "model file '", path, "': format version ",
              number, " is not supported (this library reads versions 1 to ", kModelFileFormatVersion, ")");
  try {
    ModelConfig parsed = model_config_from_json(config->second);
    validate(parsed);
    return parsed;
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "model file '", path, "': ", e.what_without_backtrace());
  }
}

}  // namespace

std::string tensors_sha256(const TensorMap& tensors) {
  io::Sha256 hash;
  for (const auto& [name, tensor] : tensors) {
    std::ostringstream head;
    head << name << '\0' << tensor.scalar_type() << '\0' << tensor.sizes() << '\0';
    hash.update(head.str());
    const torch::Tensor bytes = tensor.cpu().contiguous();
    hash.update(bytes.data_ptr(), bytes.nbytes());
  }
  return hash.hex_digest();
}

void verify_tensors_sha256(const std::string& path, const Metadata& metadata, const TensorMap& tensors) {
  auto stored = metadata.find(kModelChecksumKey);
  if (stored == metadata.end()) return;
  const std::string actual = tensors_sha256(tensors);
  TORCH_CHECK(actual == stored->second, "model file '", path, "': the tensors do not match their checksum (",
              kModelChecksumKey, " ", stored->second.substr(0, 64), ", computed ", actual,
              "): the file is damaged (load with verify_checksum(false) / --no-verify to skip)");
}

void save_model_file(const std::string& path, const ModelConfig& config, const TensorMap& tensors,
                     const Metadata& extra_metadata) {
  validate(config);
  for (const char* reserved : {kModelConfigKey, kModelFormatVersionKey, kModelChecksumKey}) {
    TORCH_CHECK(extra_metadata.count(reserved) == 0, "cannot write model file '", path, "': metadata key '",
                reserved, "' is reserved");
  }
  Metadata metadata = extra_metadata;
  metadata[kModelConfigKey] = model_config_to_json(config);
  metadata[kModelFormatVersionKey] = std::to_string(kModelFileFormatVersion);
  metadata[kModelChecksumKey] = tensors_sha256(tensors);
  write_safetensors(path, tensors, metadata);
}

ModelFile load_model_file(const std::string& path, bool verify_checksum) {
  // The metadata is checked before any tensor is copied: a wrong file fails fast.
  SafetensorsFile file(path);
  ModelFile out;
  out.config = config_from_metadata(path, file.metadata());
  out.metadata = file.metadata();
  for (const auto& name : file.names()) out.tensors.emplace(name, file.tensor(name));
  if (verify_checksum) verify_tensors_sha256(path, out.metadata, out.tensors);
  return out;
}

ModelConfig read_model_config(const std::string& path) {
  SafetensorsFile file(path);
  return config_from_metadata(path, file.metadata());
}

}  // namespace btadapter::io
