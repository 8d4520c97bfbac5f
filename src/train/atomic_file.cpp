#include "atomic_file.h"

#include <c10/util/Exception.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace btadapter::train {
namespace {

namespace fs = std::filesystem;

// fsync by path: std::ofstream has no portable handle, so reopen read-only to flush the data (and the
// directory entry after the rename) before reporting success.
void sync_path(const std::string& path, bool required) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    TORCH_CHECK(!required, "cannot open '", path, "' to sync it: ", std::strerror(errno));
    return;
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  TORCH_CHECK(rc == 0 || !required, "cannot sync '", path, "' to disk: ", std::strerror(error));
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      TORCH_CHECK(out, "cannot create '", temp, "': ", std::strerror(errno));
      write(out);
      out.flush();
      TORCH_CHECK(out, "writing '", temp, "' failed (disk full?)");
    }
    sync_path(temp, true);
    std::error_code ec;
    fs::rename(temp, target, ec);
    TORCH_CHECK(!ec, "cannot rename '", temp, "' to '", path, "': ", ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  // The rename is durable once the directory is synced; not every file system allows that (best effort).
  sync_path(target.has_parent_path() ? target.parent_path().string() : ".", false);
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_file_atomically(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

bool is_atomic_temp_name(const std::string& file_name) {
  const auto pos = file_name.rfind(".tmp.");
  if (pos == std::string::npos || pos + 5 == file_name.size()) return false;
  return file_name.find_first_not_of("0123456789", pos + 5) == std::string::npos;
}

}  // namespace btadapter::train
