#pragma once
/// Reading torch.save zip files (`pytorch_model.bin`, `.pth`) without LibTorch's unpickler, which is not
/// safe on untrusted bytes. The zip is read by ZipArchive (every offset, extent and CRC-32 checked), the
/// pickle by the bounded unpickler of pickle_reader.h, and only what a state dict needs is accepted:
///
///   globals     collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter, the
///               torch.<Type>Storage classes and (from LibTorch's pickle_save) torch.jit._pickle's
///               restore_type_tag and build_intlist/doublelist/boollist; any other class is refused, naming it
///   storages    persistent ids ('storage', torch.<Type>Storage, key, location, numel) whose record
///               `<archive>/data/<key>` holds exactly numel elements
///   tensors     offset, sizes and strides non-negative, and the tensor's extent inside its storage
///               (refused naming the tensor's key and the storage record otherwise)
///
/// The root must be a dict. An mmengine-style dict whose "state_dict" entry is a dict has its weights
/// there and its other entries flattened into metadata ("meta.epoch" -> "1"); otherwise tensors are read
/// from the root and other values become metadata. Tensors are CPU tensors in the stored dtypes; tensors
/// sharing a storage stay views of it.
///
/// Usage:
///   TorchSaveContents contents = read_torch_save_file("pytorch_model.bin");
///
/// Thread safety: free functions with no shared state.

#include <string>
#include <string_view>

#include "btadapter/io/safetensors.h"

namespace btadapter::io {

struct TorchSaveContents {
  TensorMap tensors;
  Metadata metadata;
};

/// Reads `bytes`, the whole content of the torch.save file `path` (named in every error).
TorchSaveContents read_torch_save_bytes(std::string_view bytes, const std::string& path);

/// Reads the file `path`.
TorchSaveContents read_torch_save_file(const std::string& path);

}  // namespace btadapter::io
