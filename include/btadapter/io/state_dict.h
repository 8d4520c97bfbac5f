#pragma once
/// Moving named tensors into and out of a torch::nn::Module, with PyTorch's `load_state_dict` contract
/// made strict by default: every mismatch is reported at once, and nothing is copied unless everything
/// matches.
///
/// Keys are the module's `named_parameters()` and `named_buffers()` names (recursive, dotted), which
/// for VideoTextModel are the canonical names of weight_naming.h.
///
/// Usage:
///   auto report = load_state_dict(*model, read_canonical_weights("clip.safetensors"),
///                                 LoadStateDictOptions().allow_missing_prefixes(adapter_key_prefixes()));
///
/// Thread safety: not thread-safe with respect to other users of the same module.

#include <torch/arg.h>
#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "btadapter/io/safetensors.h"

namespace btadapter::io {

struct LoadStateDictOptions {
  /// Module keys starting with one of these may be absent from the tensors (they keep their current
  /// values), e.g. adapter_key_prefixes() when loading CLIP-only weights; default none.
  TORCH_ARG(std::vector<std::string>, allow_missing_prefixes) = {};
  /// Tensors that match no module key are skipped instead of being an error; default false.
  TORCH_ARG(bool, ignore_unexpected) = false;
  /// NaN/Inf in a floating-point tensor is an error naming the key unless this is set (then a warning).
  TORCH_ARG(bool, allow_non_finite) = false;
};

/// What a successful load did.
struct LoadStateDictReport {
  std::vector<std::string> loaded;      ///< module keys that received a tensor
  std::vector<std::string> missing;     ///< allowed missing module keys (left unchanged)
  std::vector<std::string> unexpected;  ///< tensors skipped under ignore_unexpected
};

/// Copies `tensors` into the module's parameters and buffers under NoGradGuard, converting each to the
/// destination's dtype and device (requires_grad flags are kept). Throws ONE c10::Error listing every
/// missing key, every unexpected key, every shape mismatch (module shape and tensor shape), every
/// floating-point destination given an integer, bool or complex tensor (converting would be silent
/// reinterpretation of e.g. an I32-stored parameter) and every tensor with NaN/Inf (unless
/// allow_non_finite); the module is left untouched when it throws.
LoadStateDictReport load_state_dict(torch::nn::Module& module, const TensorMap& tensors,
                                    const LoadStateDictOptions& options = {});

/// The module's parameters and buffers by name: detached tensors sharing the module's storage (copy
/// them, e.g. with write_safetensors, before the module changes if a snapshot is needed).
TensorMap state_dict(const torch::nn::Module& module);

}  // namespace btadapter::io
