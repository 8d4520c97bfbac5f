#include "btadapter/io/zip_reader.h"

#include <c10/util/Exception.h>
#include <zlib.h>

#include <algorithm>
#include <utility>

namespace btadapter::io {
namespace {

constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr uint64_t kEndSize = 22, kLocatorSize = 20, kZip64EndSize = 56, kCentralSize = 46, kLocalSize = 30;

/// Little-endian field of `width` bytes at `offset`; the caller has checked the extent.
uint64_t field(std::string_view bytes, uint64_t offset, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return value;
}

/// Whether [offset, offset + size) lies inside [0, limit), without overflow.
bool inside(uint64_t offset, uint64_t size, uint64_t limit) { return offset <= limit && size <= limit - offset; }

/// The offset of the end-of-central-directory record: the last signature whose comment ends the file.
uint64_t find_end_record(std::string_view bytes, const std::string& path) {
  TORCH_CHECK(bytes.size() >= kEndSize, "zip archive '", path, "': expected at least ", kEndSize, " bytes, got ",
              bytes.size());
  const uint64_t lowest = bytes.size() > kEndSize + 0xFFFF ? bytes.size() - kEndSize - 0xFFFF : 0;
  for (uint64_t at = bytes.size() - kEndSize + 1; at-- > lowest;) {
    if (field(bytes, at, 4) == kEndSignature && at + kEndSize + field(bytes, at + 20, 2) == bytes.size()) return at;
  }
  TORCH_CHECK(false, "zip archive '", path, "': no end-of-central-directory record (truncated or not a zip file)");
}

/// Replaces the 0xFFFF... placeholders of a central entry by the values of its zip64 extra field.
void apply_zip64_extra(std::string_view extra, uint64_t& size, uint64_t& compressed, uint64_t& offset,
                       const std::string& path, uint64_t at) {
  for (uint64_t pos = 0; pos + 4 <= extra.size();) {
    const uint64_t id = field(extra, pos, 2), length = field(extra, pos + 2, 2);
    TORCH_CHECK(pos + 4 + length <= extra.size(), "zip archive '", path, "': extra field at offset ", at + pos,
                " runs past its entry");
    if (id == 1) {
      uint64_t read = pos + 4;
      for (uint64_t* value : {&size, &compressed, &offset}) {
        if (*value != 0xFFFFFFFFu) continue;
        TORCH_CHECK(read + 8 <= pos + 4 + length, "zip archive '", path, "': zip64 extra field at offset ",
                    at + pos, " is too short");
        *value = field(extra, read, 8);
        read += 8;
      }
    }
    pos += 4 + length;
  }
}

}  // namespace

ZipArchive::ZipArchive(std::string_view bytes, std::string path) : bytes_(bytes), path_(std::move(path)) {
  const uint64_t end = find_end_record(bytes_, path_);
  uint64_t count = field(bytes_, end + 10, 2), dir_size = field(bytes_, end + 12, 4);
  uint64_t dir_offset = field(bytes_, end + 16, 4), dir_end = end;
  TORCH_CHECK(field(bytes_, end + 4, 2) == 0 && field(bytes_, end + 6, 2) == 0 &&
                  field(bytes_, end + 8, 2) == count,
              "zip archive '", path_, "': multi-disk archives are not supported (end record at offset ", end, ")");
  if (count == 0xFFFF || dir_size == 0xFFFFFFFFu || dir_offset == 0xFFFFFFFFu) {
    TORCH_CHECK(end >= kLocatorSize && field(bytes_, end - kLocatorSize, 4) == kZip64LocatorSignature,
                "zip archive '", path_, "': zip64 sizes without a zip64 locator before offset ", end);
    const uint64_t record = field(bytes_, end - kLocatorSize + 8, 8);
    TORCH_CHECK(inside(record, kZip64EndSize, end - kLocatorSize) && field(bytes_, record, 4) == kZip64EndSignature,
                "zip archive '", path_, "': zip64 end record offset ", record, " is invalid");
    count = field(bytes_, record + 32, 8);
    dir_size = field(bytes_, record + 40, 8);
    dir_offset = field(bytes_, record + 48, 8);
    dir_end = record;
  }
  TORCH_CHECK(inside(dir_offset, dir_size, dir_end), "zip archive '", path_, "': central directory at offset ",
              dir_offset, " (", dir_size, " bytes) runs past its end record at offset ", dir_end);
  read_directory(dir_offset, dir_size, count);
}

void ZipArchive::read_directory(uint64_t offset, uint64_t size, uint64_t count) {
  TORCH_CHECK(count <= size / kCentralSize, "zip archive '", path_, "': ", count,
              " entries cannot fit a central directory of ", size, " bytes");
  std::vector<std::pair<uint64_t, uint64_t>> extents;  // local header offset, end of its data
  uint64_t at = offset;
  const uint64_t dir_end = offset + size;
  for (uint64_t i = 0; i < count; ++i) {
    TORCH_CHECK(inside(at, kCentralSize, dir_end) && field(bytes_, at, 4) == kCentralSignature, "zip archive '",
                path_, "': expected central directory entry ", i, " at offset ", at);
    const uint64_t method = field(bytes_, at + 10, 2), name_length = field(bytes_, at + 28, 2);
    const uint64_t extra_length = field(bytes_, at + 30, 2), comment_length = field(bytes_, at + 32, 2);
    uint64_t compressed = field(bytes_, at + 20, 4), record_size = field(bytes_, at + 24, 4);
    uint64_t local = field(bytes_, at + 42, 4);
    const uint64_t entry_size = kCentralSize + name_length + extra_length + comment_length;
    TORCH_CHECK(inside(at, entry_size, dir_end), "zip archive '", path_, "': central entry at offset ", at,
                " runs past the central directory");
    std::string name(bytes_.substr(at + kCentralSize, name_length));
    apply_zip64_extra(bytes_.substr(at + kCentralSize + name_length, extra_length), record_size, compressed, local,
                      path_, at + kCentralSize + name_length);
    TORCH_CHECK((method == 0 && compressed == record_size) || method == 8, "zip archive '", path_, "': record '",
                name, "' uses compression method ", method, " with ", compressed, " of ", record_size, " bytes");
    TORCH_CHECK(inside(local, kLocalSize, offset) && field(bytes_, local, 4) == kLocalSignature, "zip archive '",
                path_, "': record '", name, "': expected a local header at offset ", local);
    const uint64_t local_name = field(bytes_, local + 26, 2), local_extra = field(bytes_, local + 28, 2);
    const uint64_t data = local + kLocalSize + local_name + local_extra;
    TORCH_CHECK(inside(local, kLocalSize + local_name + local_extra, offset) &&
                    bytes_.substr(local + kLocalSize, local_name) == name && field(bytes_, local + 8, 2) == method,
                "zip archive '", path_, "': the local header at offset ", local, " does not match record '", name,
                "'");
    TORCH_CHECK(inside(data, compressed, offset), "zip archive '", path_, "': record '", name, "' (", compressed,
                " bytes at offset ", data, ") runs into the central directory at offset ", offset);
    TORCH_CHECK(entries_.emplace(name, Entry{data, compressed, static_cast<uint32_t>(field(bytes_, at + 16, 4)), method == 8})
                    .second,
                "zip archive '", path_, "': record '", name, "' appears twice");
    names_.push_back(name);
    extents.emplace_back(local, data + compressed);
    at += entry_size;
  }
  std::sort(extents.begin(), extents.end());
  for (size_t i = 1; i < extents.size(); ++i) {
    TORCH_CHECK(extents[i - 1].second <= extents[i].first, "zip archive '", path_, "': the record at offset ",
                extents[i].first, " overlaps the one before it");
  }
}

std::string_view ZipArchive::record(const std::string& name) const {
  auto it = entries_.find(name);
  TORCH_CHECK(it != entries_.end(), "zip archive '", path_, "': expected a record '", name, "', found none");
  TORCH_CHECK(!it->second.deflated, "zip archive '", path_, "': record '", name,
              "' is compressed; torch.save stores its records uncompressed");
  const std::string_view data = bytes_.substr(it->second.data_offset, it->second.size);
  const auto crc = crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
  TORCH_CHECK(crc == it->second.crc, "zip archive '", path_, "': record '", name, "' (at offset ",
              it->second.data_offset, ") fails its CRC-32 check (stored ", it->second.crc, ", computed ", crc,
              "): the file is corrupt");
  return data;
}

}  // namespace btadapter::io
