#include "btadapter/io/atomic_file.h"

#include <c10/util/Exception.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace btadapter::io {
namespace {

namespace fs = std::filesystem;

// fsync by path: std::ofstream and third-party writers expose no handle, so reopen read-only to flush the
// data (and the directory entry after the rename) before reporting success.
void sync_path(const std::string& path, bool required) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    TORCH_CHECK(!required, "cannot open '", path, "' to sync it: ", std::strerror(errno));
    return;
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  TORCH_CHECK(rc == 0 || !required, "cannot sync '", path, "' to disk: ", std::strerror(error));
}

std::string temp_path_for(const fs::path& target) {
  return target.string() + ".tmp." + std::to_string(::getpid()) + target.extension().string();
}

}  // namespace

void write_path_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    TORCH_CHECK(!ec, "cannot write '", path, "': cannot create folder '", target.parent_path().string(), "': ",
                ec.message());
  }
  const std::string temp = temp_path_for(target);
  try {
    write(temp);
    TORCH_CHECK(fs::exists(temp), "writing '", path, "' produced no file at '", temp, "'");
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

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  write_path_atomically(path, [&](const std::string& temp) {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    TORCH_CHECK(out, "cannot write '", path, "': cannot create '", temp, "': ", std::strerror(errno));
    write(out);
    out.flush();
    TORCH_CHECK(out, "cannot write '", path, "': writing '", temp, "' failed (disk full?)");
  });
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
}

}  // namespace btadapter::io
