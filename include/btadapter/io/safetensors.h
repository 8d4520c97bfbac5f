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
/// Usage:
///   btadapter::io::write_safetensors("w.safetensors", {{"proj.weight", w}}, {{"format", "pt"}});
///   btadapter::io::SafetensorsFile file("w.safetensors");
///   torch::Tensor w2 = file.tensor("proj.weight");   // owning copy; file.view(...) is zero-copy
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

/// An open, memory-mapped safetensors file; the whole header is validated when it opens. Tensors returned
/// by `tensor()` are CPU tensors that own a copy of the bytes; `view()` returns zero-copy CPU tensors that
/// share the mapping and keep it alive (so they may outlive this object). The mapping is private (copy on
/// write): writing into a view never reaches the file, but tensor() and view() of this object would see it.
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
  /// A zero-copy view into the mapping (treat it as read-only). Files written by write_safetensors (and
  /// by the reference Python library) are aligned; a tensor misaligned for its dtype is copied instead.
  torch::Tensor view(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// How a file's tensors come back: owning copies, or zero-copy views of the private mapping (see
/// SafetensorsFile::view) for weights about to be copied into a module anyway - no second copy of a
/// model's bytes, and no page faults on one (loading a 761 MB model file: 1.5-2 s less).
enum class TensorReading { kCopies, kMappedViews };

/// Reads every tensor of a file.
TensorMap read_safetensors(const std::string& path, Metadata* metadata = nullptr,
                           TensorReading reading = TensorReading::kCopies);

/// Writes tensors (detached, moved to CPU, made contiguous) and metadata atomically (temp file + rename).
/// The data section is ordered by element size, then name, so every tensor is aligned for zero-copy
/// views. Undefined tensors, unsupported dtypes (complex, uint16+, ...) and the reserved name
/// "__metadata__" are rejected before any file is created; any failure removes the temp file and leaves
/// an existing `path` untouched.
void write_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata = {});

}  // namespace btadapter::io
