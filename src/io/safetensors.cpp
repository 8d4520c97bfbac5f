#include "btadapter/io/safetensors.h"

#include "btadapter/io/atomic_file.h"
#include "btadapter/io/json_limits.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <unordered_map>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors stores little-endian data; big-endian hosts would need byte swapping");

namespace btadapter::io {
namespace {

using json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
// The reference implementation refuses headers over 100 MB; a larger length is certainly corrupt and
// would otherwise make us parse gigabytes of tensor data as JSON.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};
constexpr DtypeName kDtypes[] = {
    {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
    {"F64", torch::kFloat64}, {"I64", torch::kInt64},   {"I32", torch::kInt32},
    {"I16", torch::kInt16},   {"I8", torch::kInt8},     {"U8", torch::kUInt8},
    {"BOOL", torch::kBool},
};

std::optional<torch::ScalarType> dtype_from_name(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  return std::nullopt;
}

const char* dtype_name(torch::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (type == d.type) return d.name;
  }
  return nullptr;
}

std::string errno_text() { return std::strerror(errno); }

/// A read-only file mapping; shared by the file object and every view() tensor so views stay valid.
struct Mapping {
  void* data = nullptr;
  size_t size = 0;

  explicit Mapping(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    TORCH_CHECK(fd >= 0, "safetensors file '", path, "': cannot open: ", errno_text());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      TORCH_CHECK(false, "safetensors file '", path, "': not a regular file");
    }
    size = static_cast<size_t>(st.st_size);
    if (size > 0) {
      // Private + writable: an accidental write into a view() tensor stays in this process (copy on
      // write) instead of faulting or reaching the file.
      data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    }
    int saved = errno;
    ::close(fd);
    errno = saved;
    TORCH_CHECK(data != MAP_FAILED, "safetensors file '", path, "': mmap failed: ", errno_text());
  }
  ~Mapping() {
    if (data != nullptr && data != MAP_FAILED) ::munmap(data, size);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  const uint8_t* bytes() const { return static_cast<const uint8_t*>(data); }
};

struct Entry {
  std::string name;
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // relative to the start of the data section
  uint64_t end = 0;
};

/// Builds every check's message the same way: the file, then the problem.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, uint64_t data_size) : path_(path), data_size_(data_size) {}

  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    TORCH_CHECK(false, "safetensors file '", path_, "': ", args...);
    std::abort();  // unreachable; TORCH_CHECK(false) always throws
  }

  uint64_t non_negative_int(const json& value, const std::string& what) const {
    if (!value.is_number_unsigned()) fail(what, " must be a non-negative integer, got ", json_quote(value));
    return value.get<uint64_t>();
  }

  Entry entry(const std::string& name, const json& info) const {
    if (!info.is_object()) fail("tensor '", name, "': expected an object, got ", json_quote(info));
    Entry e;
    e.name = name;

    auto dtype_it = info.find("dtype");
    if (dtype_it == info.end() || !dtype_it->is_string()) fail("tensor '", name, "': missing string 'dtype'");
    auto dtype = dtype_from_name(dtype_it->get<std::string>());
    if (!dtype) {
      fail("tensor '", name, "': unknown dtype '", dtype_it->get<std::string>(),
           "' (expected F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL)");
    }
    e.dtype = *dtype;

    auto shape_it = info.find("shape");
    if (shape_it == info.end() || !shape_it->is_array()) {
      fail("tensor '", name, "': 'shape' must be an array of non-negative integers");
    }
    uint64_t numel = 1;
    for (const auto& dim : *shape_it) {
      uint64_t d = non_negative_int(dim, "tensor '" + name + "': each 'shape' entry");
      if (__builtin_mul_overflow(numel, d, &numel) || d > uint64_t(INT64_MAX)) {
        fail("tensor '", name, "': shape ", json_quote(*shape_it), " overflows");
      }
      e.shape.push_back(static_cast<int64_t>(d));
    }

    auto offsets_it = info.find("data_offsets");
    if (offsets_it == info.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
      fail("tensor '", name, "': 'data_offsets' must be an array [begin, end]");
    }
    e.begin = non_negative_int((*offsets_it)[0], "tensor '" + name + "': 'data_offsets' begin");
    e.end = non_negative_int((*offsets_it)[1], "tensor '" + name + "': 'data_offsets' end");
    if (e.begin > e.end || e.end > data_size_) {
      fail("tensor '", name, "': data_offsets [", e.begin, ", ", e.end, "] out of range (data section has ",
           data_size_, " bytes)");
    }
    uint64_t expected = 0;
    if (__builtin_mul_overflow(numel, uint64_t(c10::elementSize(e.dtype)), &expected) ||
        expected != e.end - e.begin) {
      fail("tensor '", name, "': ", e.end - e.begin, " bytes in data_offsets but shape ", json_quote(*shape_it),
           " of ", dtype_it->get<std::string>(), " needs ", numel, " * ", c10::elementSize(e.dtype), " bytes");
    }
    return e;
  }

  Metadata metadata(const json& value) const {
    if (!value.is_object()) fail("'", kMetadataKey, "' must be an object of strings, got ", json_quote(value));
    Metadata out;
    for (const auto& [key, v] : value.items()) {
      if (!v.is_string()) fail("metadata value of '", quote_text(key), "' must be a string, got ", json_quote(v));
      out[key] = v.get<std::string>();
    }
    return out;
  }

  /// The data section must be tiled exactly: sorted by offset, each tensor starts where the last ended.
  void check_layout(std::vector<Entry>& entries) const {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t cursor = 0;
    const Entry* previous = nullptr;
    for (const auto& e : entries) {
      if (e.begin < cursor) {
        fail("tensors '", previous->name, "' and '", e.name, "' overlap (data_offsets [", previous->begin, ", ",
             previous->end, "] and [", e.begin, ", ", e.end, "])");
      }
      if (e.begin > cursor) {
        fail("data section is not covered: bytes [", cursor, ", ", e.begin, ") belong to no tensor");
      }
      cursor = e.end;
      previous = &e;
    }
    if (cursor != data_size_) {
      fail("data section is not covered: bytes [", cursor, ", ", data_size_, ") belong to no tensor");
    }
  }

 private:
  const std::string& path_;
  uint64_t data_size_;
};

}  // namespace

struct SafetensorsFile::Impl {
  std::string path;
  std::shared_ptr<Mapping> mapping;
  const uint8_t* data = nullptr;  // start of the data section
  std::vector<Entry> entries;     // in data order
  std::unordered_map<std::string, size_t> index;
  Metadata metadata;

  const Entry& find(const std::string& name) const {
    auto it = index.find(name);
    TORCH_CHECK(it != index.end(), "safetensors file '", path, "' has no tensor '", name, "'");
    return entries[it->second];
  }
};

SafetensorsFile::SafetensorsFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->mapping = std::make_shared<Mapping>(path);
  const uint64_t file_size = impl_->mapping->size;
  TORCH_CHECK(file_size >= 8, "safetensors file '", path, "': file is ", file_size,
              " bytes, shorter than the 8-byte header length");
  uint64_t header_size = 0;
  std::memcpy(&header_size, impl_->mapping->bytes(), 8);
  TORCH_CHECK(header_size <= file_size - 8, "safetensors file '", path, "': header length ", header_size,
              " runs past the end of the file (", file_size, " bytes)");
  TORCH_CHECK(header_size <= kMaxHeaderBytes, "safetensors file '", path, "': header length ", header_size,
              " exceeds the 100 MB limit");
  const uint64_t data_size = file_size - 8 - header_size;
  HeaderParser parser(impl_->path, data_size);

  const char* header_begin = reinterpret_cast<const char*>(impl_->mapping->bytes() + 8);
  const std::string_view header_text(header_begin, header_size);
  // Depth and NUL bytes are checked before parsing (a deep header would overflow the parser's stack);
  // a repeated key would silently replace a tensor's entry.
  JsonParseOptions bounds;
  bounds.refuse_duplicate_keys = true;
  const json header = parse_json_bounded(header_text, "safetensors file '" + path + "': invalid JSON header", bounds);
  if (!header.is_object()) parser.fail("header is not a JSON object, got ", header.type_name());
  // The spec: the header starts with '{' and may be padded at its end with spaces (0x20) only.
  if (header_text.front() != '{') parser.fail("header must begin with '{', got byte ", int(uint8_t(header_text[0])));
  const size_t last = header_text.find_last_not_of(' ');
  if (header_text[last] != '}') {
    parser.fail("header JSON may only be followed by spaces (0x20), got byte ", int(uint8_t(header_text[last])),
                " at offset ", 8 + last);
  }

  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      impl_->metadata = parser.metadata(value);
    } else {
      impl_->entries.push_back(parser.entry(key, value));
    }
  }
  parser.check_layout(impl_->entries);
  for (size_t i = 0; i < impl_->entries.size(); ++i) impl_->index.emplace(impl_->entries[i].name, i);
  impl_->data = impl_->mapping->bytes() + 8 + header_size;
}

SafetensorsFile::~SafetensorsFile() = default;

const std::string& SafetensorsFile::path() const { return impl_->path; }

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(impl_->entries.size());
  for (const auto& e : impl_->entries) out.push_back(e.name);
  return out;
}

bool SafetensorsFile::contains(const std::string& name) const { return impl_->index.count(name) > 0; }

const Metadata& SafetensorsFile::metadata() const { return impl_->metadata; }

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const Entry& e = impl_->find(name);
  torch::Tensor out = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
  if (e.end > e.begin) std::memcpy(out.data_ptr(), impl_->data + e.begin, e.end - e.begin);
  return out;
}

torch::Tensor SafetensorsFile::view(const std::string& name) const {
  const Entry& e = impl_->find(name);
  const uint8_t* ptr = impl_->data + e.begin;
  // Files from other writers may leave a tensor misaligned for its element type; a copy is safe there.
  if (reinterpret_cast<uintptr_t>(ptr) % c10::elementSize(e.dtype) != 0) return tensor(name);
  std::shared_ptr<Mapping> keep_alive = impl_->mapping;
  return torch::from_blob(const_cast<uint8_t*>(ptr), e.shape, [keep_alive](void*) {},
                          torch::TensorOptions().dtype(e.dtype));
}

TensorMap read_safetensors(const std::string& path, Metadata* metadata, TensorReading reading) {
  SafetensorsFile file(path);
  TensorMap out;
  for (const auto& name : file.names()) {
    out.emplace(name, reading == TensorReading::kMappedViews ? file.view(name) : file.tensor(name));
  }
  if (metadata != nullptr) *metadata = file.metadata();
  return out;
}

void write_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata) {
  // Validate and stage everything before touching the disk, so bad input never creates a file.
  std::vector<std::pair<std::string, torch::Tensor>> staged;
  staged.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    TORCH_CHECK(name != kMetadataKey, "cannot write safetensors file '", path, "': '", kMetadataKey,
                "' is reserved and cannot name a tensor");
    TORCH_CHECK(t.defined(), "cannot write safetensors file '", path, "': tensor '", name, "' is undefined");
    TORCH_CHECK(dtype_name(t.scalar_type()) != nullptr, "cannot write safetensors file '", path, "': tensor '",
                name, "' has unsupported dtype ", t.scalar_type(),
                " (expected float32/16/64, bfloat16, int64/32/16/8, uint8 or bool)");
    staged.emplace_back(name, t.detach().to(torch::kCPU).contiguous());
  }
  // Larger elements first (then by name): every tensor then starts at a multiple of its element size,
  // so readers can map it without copying (the reference implementation orders the same way).
  std::stable_sort(staged.begin(), staged.end(), [](const auto& a, const auto& b) {
    return a.second.element_size() > b.second.element_size();
  });

  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : staged) {
    const uint64_t bytes = t.numel() * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::string header_text = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  const uint64_t header_size = header_text.size();

  write_file_atomically(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(&header_size), 8);
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (const auto& [name, t] : staged) {
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    }
  });
}

}  // namespace btadapter::io
