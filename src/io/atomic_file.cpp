#include "btadapter/io/atomic_file.h"

#include <c10/util/Exception.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
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

constexpr std::string_view kTempMarker = ".tmp.";

std::string temp_path_for(const fs::path& target) {
  return target.string() + std::string(kTempMarker) + std::to_string(::getpid()) + target.extension().string();
}

// The writer's pid from a temporary name (is_atomic_temp_name holds), or -1 when it does not fit a pid_t.
long temp_name_pid(const std::string& file_name) {
  const size_t digits = file_name.rfind(kTempMarker) + kTempMarker.size();
  const size_t end = file_name.find_first_not_of("0123456789", digits);
  const std::string number = file_name.substr(digits, end == std::string::npos ? std::string::npos : end - digits);
  return number.size() > 9 ? -1 : std::stol(number);
}

// A temporary file whose writer is gone (or is us: a restarted container may reuse the pid).
bool writer_is_gone(long pid) {
  if (pid <= 0 || pid == ::getpid()) return true;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
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

bool is_atomic_temp_name(const std::string& file_name) {
  const size_t marker = file_name.rfind(kTempMarker);
  if (marker == std::string::npos || marker == 0) return false;
  const size_t digits = marker + kTempMarker.size();
  const size_t end = std::min(file_name.find_first_not_of("0123456789", digits), file_name.size());
  if (end == digits) return false;
  return file_name.compare(end, std::string::npos, fs::path(file_name.substr(0, marker)).extension().string()) == 0;
}

std::vector<std::string> remove_stale_temp_files(const std::string& folder) {
  std::vector<std::string> removed;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return removed;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !is_atomic_temp_name(name) || !writer_is_gone(temp_name_pid(name))) continue;
    fs::remove(entry.path(), ec);
    TORCH_CHECK(!ec, "cannot remove the stale temporary file '", entry.path().string(), "': ", ec.message());
    removed.push_back(entry.path().string());
  }
  return removed;
}

}  // namespace btadapter::io
