#pragma once
/// A bounded unpickler for the pickles torch.save writes (protocols 2 to 5, the opcodes a dict of tensors
/// needs), for bytes nobody vouches for. Unlike LibTorch's unpickler it cannot be driven into a stack
/// overflow or out-of-bounds read: every pop is checked against the stack above the innermost MARK,
/// nesting (containers and MARKs) is bounded by kMaxPickleDepth, the number of values by kMaxPickleValues,
/// memo references must name stored entries, and the stream must end with STOP leaving exactly one value.
/// Globals, REDUCE and persistent ids mean nothing by themselves: the caller's PickleHooks resolve (or
/// refuse) them. Errors are c10::Error "<where> at offset N: ...".
///
/// Usage:
///   PickleHooks hooks{find_class, reduce, persistent_load};
///   Unpickled result = unpickle(bytes, hooks, "torch.save file 'x.pth' (record 'x/data.pkl')");
///   const PickleValue& root = *result.root;
///
/// Thread safety: free function with no shared state.

#include <torch/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace btadapter::io {

inline constexpr int kMaxPickleDepth = 100;
inline constexpr size_t kMaxPickleValues = size_t{1} << 22;

struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kList, kTuple, kDict, kGlobal, kStorage, kTensor };
  Kind kind = Kind::kNone;
  int64_t integer = 0;                    ///< kBool, kInt; kTensor: the storage offset
  double real = 0;                        ///< kFloat
  std::string text;                       ///< kString, kBytes, kGlobal ("module.name"), kStorage (its key)
  std::vector<PickleValue*> items;        ///< kList, kTuple; kDict: key, value, key, value, ...
  torch::Tensor storage;                  ///< kStorage, kTensor: the storage as a 1-D tensor
  std::vector<int64_t> sizes, strides;    ///< kTensor
  int depth = 1;                          ///< containers: 1 + the deepest item seen when it was added
};

const char* to_string(PickleValue::Kind kind);

/// What the pickle cannot say by itself; each hook returns the new value or throws c10::Error.
struct PickleHooks {
  std::function<PickleValue(const std::string& module, const std::string& name)> find_class;
  std::function<PickleValue(const PickleValue& callable, const PickleValue& args)> reduce;
  std::function<PickleValue(const PickleValue& persistent_id)> persistent_load;
};

/// The values of one pickle; `root` points into `values`.
struct Unpickled {
  std::deque<PickleValue> values;
  const PickleValue* root = nullptr;
};

Unpickled unpickle(std::string_view bytes, const PickleHooks& hooks, const std::string& where);

}  // namespace btadapter::io
