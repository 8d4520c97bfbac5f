#include "btadapter/io/torch_save.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "btadapter/io/pickle_reader.h"
#include "btadapter/io/zip_reader.h"

namespace btadapter::io {
namespace {

using PickleKind = PickleValue::Kind;

constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor_v2";
constexpr const char* kRebuildParameter = "torch._utils._rebuild_parameter";
constexpr const char* kOrderedDict = "collections.OrderedDict";
/// LibTorch's torch::pickle_save tags dicts with their type and writes int/float/bool lists through these.
constexpr const char* kRestoreTypeTag = "torch.jit._pickle.restore_type_tag";
const std::set<std::string> kBuildLists = {"torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist",
                                           "torch.jit._pickle.build_boollist"};
/// Bounds the work of flattening metadata whose values share sub-values (a pickle can reference one list
/// from many places, doubling the text at each level).
constexpr size_t kMaxMetadataItems = size_t{1} << 20;

const std::map<std::string, torch::ScalarType>& storage_types() {
  static const std::map<std::string, torch::ScalarType> types = {
      {"torch.FloatStorage", torch::kFloat},          {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},            {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},            {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort},          {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},            {"torch.BoolStorage", torch::kBool},
      {"torch.ComplexFloatStorage", torch::kComplexFloat}, {"torch.ComplexDoubleStorage", torch::kComplexDouble}};
  return types;
}

bool is_int(const PickleValue* v) { return v->kind == PickleKind::kInt; }

std::vector<int64_t> int_tuple(const PickleValue& value, const char* what) {
  TORCH_CHECK(value.kind == PickleKind::kTuple && value.items.size() <= 64, "expected the tensor's ", what,
              " as a tuple of at most 64 ints, got ", to_string(value.kind));
  std::vector<int64_t> out;
  for (const PickleValue* item : value.items) {
    TORCH_CHECK(is_int(item) && item->integer >= 0, "expected the tensor's ", what, " as non-negative ints");
    out.push_back(item->integer);
  }
  return out;
}

/// Resolves globals, REDUCE calls and storages for one archive.
class StateDictHooks {
 public:
  StateDictHooks(const ZipArchive& zip, std::string prefix) : zip_(zip), prefix_(std::move(prefix)) {}

  PickleHooks hooks() {
    return {[this](const std::string& m, const std::string& n) { return find_class(m, n); },
            [this](const PickleValue& f, const PickleValue& a) { return reduce(f, a); },
            [this](const PickleValue& id) { return load_storage(id); }};
  }

 private:
  PickleValue find_class(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    TORCH_CHECK(full == kOrderedDict || full == kRebuildTensor || full == kRebuildParameter ||
                    full == kRestoreTypeTag || kBuildLists.count(full) != 0 || storage_types().count(full) != 0,
                "global '", full.substr(0, 200), "' is not one a state dict needs (OrderedDict, tensors and "
                "storages only); load it in Python and save the tensors with safetensors.torch.save_file (for "
                "mmengine checkpoints, ckpt['state_dict'])");
    PickleValue value;
    value.kind = PickleKind::kGlobal;
    value.text = full;
    return value;
  }

  PickleValue reduce(const PickleValue& callable, const PickleValue& args) {
    const auto& a = args.items;
    if (callable.text == kOrderedDict) {
      TORCH_CHECK(a.empty(), "expected OrderedDict(), got ", a.size(), " arguments");
      PickleValue dict;
      dict.kind = PickleKind::kDict;
      return dict;
    }
    if (callable.text == kRestoreTypeTag) {
      TORCH_CHECK(a.size() == 2 && (a[0]->kind == PickleKind::kDict || a[0]->kind == PickleKind::kList) &&
                      a[1]->kind == PickleKind::kString,
                  "expected restore_type_tag(dict or list, type name)");
      return *a[0];
    }
    if (kBuildLists.count(callable.text) != 0) {
      TORCH_CHECK(a.size() == 1 && a[0]->kind == PickleKind::kList, "expected ", callable.text, "(list)");
      return *a[0];
    }
    if (callable.text == kRebuildParameter) {
      TORCH_CHECK(a.size() == 3 && a[0]->kind == PickleKind::kTensor, "expected _rebuild_parameter(tensor, bool, hooks)");
      return *a[0];
    }
    TORCH_CHECK(callable.text == kRebuildTensor, "'", callable.text, "' cannot be called");
    TORCH_CHECK((a.size() == 6 || a.size() == 7) && a[0]->kind == PickleKind::kStorage && is_int(a[1]) &&
                    a[1]->integer >= 0,
                "expected _rebuild_tensor_v2(storage, offset, sizes, strides, requires_grad, hooks[, metadata])");
    PickleValue tensor;
    tensor.kind = PickleKind::kTensor;
    tensor.storage = a[0]->storage;
    tensor.text = a[0]->text;
    tensor.integer = a[1]->integer;
    tensor.sizes = int_tuple(*a[2], "sizes");
    tensor.strides = int_tuple(*a[3], "strides");
    TORCH_CHECK(tensor.sizes.size() == tensor.strides.size(), "the tensor has ", tensor.sizes.size(), " sizes but ",
                tensor.strides.size(), " strides");
    return tensor;
  }

  /// ('storage', torch.<Type>Storage, key, location, numel): the record `data/<key>`, read once.
  PickleValue load_storage(const PickleValue& id) {
    const auto& a = id.items;
    TORCH_CHECK(id.kind == PickleKind::kTuple && a.size() == 5 && a[0]->kind == PickleKind::kString && a[0]->text == "storage" &&
                    a[1]->kind == PickleKind::kGlobal && storage_types().count(a[1]->text) != 0 &&
                    a[2]->kind == PickleKind::kString && a[3]->kind == PickleKind::kString && is_int(a[4]) && a[4]->integer >= 0,
                "expected a persistent id ('storage', torch.<Type>Storage, key, location, numel)");
    const torch::ScalarType dtype = storage_types().at(a[1]->text);
    const std::string record = prefix_ + "data/" + a[2]->text;
    auto cached = storages_.find(record);
    if (cached == storages_.end()) {
      const std::string_view bytes = zip_.record(record);
      const auto element = static_cast<uint64_t>(c10::elementSize(dtype));
      TORCH_CHECK(bytes.size() % element == 0, "storage record '", record, "' holds ", bytes.size(),
                  " bytes, not a whole number of ", c10::toString(dtype), " elements");
      torch::Tensor storage = torch::empty({static_cast<int64_t>(bytes.size() / element)}, dtype);
      std::memcpy(storage.data_ptr(), bytes.data(), bytes.size());
      cached = storages_.emplace(record, storage).first;
    }
    const torch::Tensor& storage = cached->second;
    TORCH_CHECK(storage.scalar_type() == dtype && storage.numel() == a[4]->integer, "storage record '", record,
                "' holds ", storage.numel(), " ", c10::toString(storage.scalar_type()), " elements; its persistent id says ",
                a[4]->integer, " ", c10::toString(dtype));
    PickleValue value;
    value.kind = PickleKind::kStorage;
    value.text = record;
    value.storage = storage;
    return value;
  }

  const ZipArchive& zip_;
  std::string prefix_;
  std::map<std::string, torch::Tensor> storages_;
};

/// The tensor `value` describes, once its extent is known to lie inside its storage.
torch::Tensor materialize(const PickleValue& value, const std::string& key) {
  const int64_t available = value.storage.numel();
  int64_t last = value.integer;  // the highest element index the tensor reads
  bool empty = false;
  for (size_t i = 0; i < value.sizes.size(); ++i) {
    int64_t span = 0;
    empty = empty || value.sizes[i] == 0;
    TORCH_CHECK(value.sizes[i] == 0 || (!__builtin_mul_overflow(value.sizes[i] - 1, value.strides[i], &span) &&
                                        !__builtin_add_overflow(last, span, &last)),
                "tensor '", key, "': its sizes and strides overflow");
  }
  TORCH_CHECK(empty ? value.integer <= available : last < available, "tensor '", key, "' (sizes ", c10::IntArrayRef(value.sizes),
              ", strides ", c10::IntArrayRef(value.strides), ", offset ", value.integer, ") needs ", empty ? value.integer : last + 1,
              " elements of storage record '", value.text, "', which holds ", available);
  return value.storage.as_strided(value.sizes, value.strides, value.integer);
}

std::string float_text(double value) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  std::ostringstream out;
  for (int precision = 1; precision <= 17; ++precision) {  // the shortest text that reads back (Python's repr)
    out.str("");
    out << std::setprecision(precision) << value;
    if (std::stod(out.str()) == value) break;
  }
  std::string text = out.str();
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

/// Flattens values into string metadata; every call counts against one budget.
class MetadataWriter {
 public:
  explicit MetadataWriter(Metadata& out) : out_(out) {}

  void flatten(const PickleValue& value, const std::string& key, int depth = 0) {
    count(depth);
    if (value.kind == PickleKind::kTensor) return;
    if (value.kind != PickleKind::kDict) {
      out_[key] = text(value, depth);
      return;
    }
    for (size_t i = 0; i + 1 < value.items.size(); i += 2) {
      flatten(*value.items[i + 1], key + "." + text(*value.items[i], depth + 1), depth + 1);
    }
  }

  std::string text(const PickleValue& value, int depth) {
    count(depth);
    switch (value.kind) {
      case PickleKind::kNone: return "None";
      case PickleKind::kBool: return value.integer ? "True" : "False";
      case PickleKind::kInt: return std::to_string(value.integer);
      case PickleKind::kFloat: return float_text(value.real);
      case PickleKind::kString: return value.text;
      case PickleKind::kList: case PickleKind::kTuple: case PickleKind::kDict: {
        std::string out = value.kind == PickleKind::kList ? "[" : value.kind == PickleKind::kTuple ? "(" : "{";
        for (size_t i = 0; i < value.items.size(); ++i) {
          if (i > 0) out += value.kind == PickleKind::kDict && i % 2 == 1 ? ": " : ", ";
          out += text(*value.items[i], depth + 1);
        }
        return out + (value.kind == PickleKind::kList ? "]" : value.kind == PickleKind::kTuple ? ")" : "}");
      }
      default: return std::string("<") + to_string(value.kind) + ">";
    }
  }

 private:
  void count(int depth) {
    TORCH_CHECK(depth <= kMaxPickleDepth, "metadata nested deeper than ", kMaxPickleDepth);
    TORCH_CHECK(++items_ <= kMaxMetadataItems, "metadata with more than ", kMaxMetadataItems, " items");
  }

  Metadata& out_;
  size_t items_ = 0;
};

/// The dict's entries by string key (repeated keys are refused: a dict has each key once).
std::vector<std::pair<std::string, const PickleValue*>> entries(const PickleValue& dict, const std::string& where) {
  std::vector<std::pair<std::string, const PickleValue*>> out;
  std::set<std::string> seen;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const PickleValue& key = *dict.items[i];
    TORCH_CHECK(key.kind == PickleKind::kString, where, ": expected string keys, got ", to_string(key.kind));
    TORCH_CHECK(seen.insert(key.text).second, where, ": key '", key.text.substr(0, 200), "' appears twice");
    out.emplace_back(key.text, dict.items[i + 1]);
  }
  return out;
}

TorchSaveContents to_contents(const PickleValue& root, const std::string& where) {
  TORCH_CHECK(root.kind == PickleKind::kDict, where, ": expected a dict of tensors, got ", to_string(root.kind));
  TorchSaveContents out;
  MetadataWriter metadata(out.metadata);
  auto weights = entries(root, where);
  std::string weights_key;
  for (const auto& [key, value] : weights) {
    if (key != "state_dict" || value->kind != PickleKind::kDict) continue;
    // mmengine / open_clip training checkpoints: weights under "state_dict", the rest is metadata.
    for (const auto& [other, other_value] : weights) {
      if (other != "state_dict") metadata.flatten(*other_value, other);
    }
    weights = entries(*value, where);
    weights_key = "state_dict.";
    break;
  }
  for (const auto& [key, value] : weights) {
    if (value->kind == PickleKind::kTensor) out.tensors.emplace(key, materialize(*value, key));
    else metadata.flatten(*value, weights_key + key);
  }
  return out;
}

/// "<name>/" of the archive's records: torch.save puts every record in one folder named after the file.
std::string archive_prefix(const ZipArchive& zip) {
  TORCH_CHECK(!zip.names().empty(), "expected records in the archive, found none");
  const std::string& first = zip.names().front();
  const size_t slash = first.find('/');
  const std::string prefix = slash == std::string::npos ? "" : first.substr(0, slash + 1);
  TORCH_CHECK(zip.has(prefix + "data.pkl"), "expected a record '", prefix, "data.pkl'");
  return prefix;
}

}  // namespace

TorchSaveContents read_torch_save_bytes(std::string_view bytes, const std::string& path) {
  const std::string where = "torch.save file '" + path + "'";
  try {
    ZipArchive zip(bytes, path);
    const std::string prefix = archive_prefix(zip);
    for (const auto& name : zip.names()) zip.record(name);  // every CRC, also of records nothing reads
    if (zip.has(prefix + "byteorder")) {
      TORCH_CHECK(zip.record(prefix + "byteorder") == "little", "expected byteorder 'little'");
    }
    StateDictHooks hooks(zip, prefix);
    const std::string record = prefix + "data.pkl";
    Unpickled pickle = unpickle(zip.record(record), hooks.hooks(), where + " (record '" + record + "')");
    return to_contents(*pickle.root, where);
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    if (message.find(path) != std::string::npos) throw;
    TORCH_CHECK(false, where, ": ", message);
  }
}

TorchSaveContents read_torch_save_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "cannot open torch.save file '", path, "'");
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  return read_torch_save_bytes(bytes, path);
}

}  // namespace btadapter::io
