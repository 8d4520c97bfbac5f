#pragma once
/// A bounded reader for the zip archives torch.save writes (stored records, optionally zip64), over bytes
/// already in memory. Nothing is trusted: the end-of-central-directory record, every central entry and
/// every local header are checked against the archive's size before use, records must not overlap or
/// reach into the central directory, names must be unique and equal in both headers, and every record
/// read is checked against its CRC-32 (torch_save.h checks every record of the archive). Deflated
/// records are listed but record() refuses them (torch.save stores its records; TorchScript compresses
/// its code).
///
/// Usage:
///   ZipArchive zip(bytes, "model.pth");
///   if (zip.has("archive/data.pkl")) std::string_view pkl = zip.record("archive/data.pkl");
///
/// Errors are c10::Error naming `path`, the fault and its offset in the archive.
///
/// Thread safety: const member functions may be called concurrently.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace btadapter::io {

class ZipArchive {
 public:
  /// Parses the directory of `bytes` (which must outlive the archive); `path` is for messages.
  ZipArchive(std::string_view bytes, std::string path);

  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  /// Whether the record is deflated (record() refuses those; TorchScript archives compress their code).
  bool compressed(const std::string& name) const { return entries_.at(name).deflated; }
  /// Record names in archive order.
  const std::vector<std::string>& names() const { return names_; }
  /// The bytes of one record, after checking its CRC-32 (c10::Error naming the record otherwise).
  std::string_view record(const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  struct Entry {
    uint64_t data_offset = 0;
    uint64_t size = 0;
    uint32_t crc = 0;
    bool deflated = false;  ///< listed (TorchScript compresses its code) but not readable here
  };

  void read_directory(uint64_t offset, uint64_t size, uint64_t count);

  std::string_view bytes_;
  std::string path_;
  std::vector<std::string> names_;
  std::map<std::string, Entry> entries_;
};

}  // namespace btadapter::io
