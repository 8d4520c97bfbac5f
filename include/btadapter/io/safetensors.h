#pragma once
/// Safetensors files (https://github.com/huggingface/safetensors format): an 8-byte little-endian header
/// length N, N bytes of JSON `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
/// "__metadata__": {"key": "string value"}}`, then the raw little-endian tensor bytes.
///
/// Reading memory-maps the file; tensors are F32/F16/BF16/F64/I64/I32/I16/I8/U8/BOOL. Every malformed file
/// (header length past the end, invalid JSON, unknown dtype, offsets out of range or overlapping, shape
/// not matching the byte count) raises c10::Error naming the file and the problem.
/// Writing goes to `<path>.tmp.<pid>` and is renamed into place, so a crash never leaves a half file.
///
/// Thread safety: free functions with no shared state; SafetensorsFile is immutable after open and can
/// be read from several threads.

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace btadapter::io {

/// Name -> tensor, ordered by name (deterministic iteration and file layout).
using TensorMap = std::map<std::string, torch::Tensor>;
/// String metadata stored under "__metadata__".
using Metadata = std::map<std::string, std::string>;

/// An open, memory-mapped safetensors file. Tensors returned by `tensor()` are CPU tensors that own a
/// copy of the bytes (so they outlive the file); `view()` returns zero-copy tensors that are valid only
/// while this object lives.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const;
  /// Tensor names in file order of their data.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  const Metadata& metadata() const;
  /// A copy of one tensor; throws naming the file and tensor when absent.
  torch::Tensor tensor(const std::string& name) const;
  /// A zero-copy view into the mapping (read-only; do not write to it).
  torch::Tensor view(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads every tensor (copies) of a file.
TensorMap read_safetensors(const std::string& path, Metadata* metadata = nullptr);

/// Writes tensors (made contiguous, moved to CPU) and metadata atomically (temp file + rename).
void write_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata = {});

}  // namespace btadapter::io
