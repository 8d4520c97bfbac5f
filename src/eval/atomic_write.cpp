#include "atomic_write.h"

#include <c10/util/Exception.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace btadapter::eval::detail {

void write_file_atomically(const std::string& path, std::string_view content) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    TORCH_CHECK(out, "cannot write '", path, "': cannot create '", temp, "' (", std::strerror(errno), ")");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      TORCH_CHECK(false, "cannot write '", path, "': writing '", temp, "' failed (", std::strerror(errno), ")");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(temp.c_str());
    TORCH_CHECK(false, "cannot write '", path, "': rename from '", temp, "' failed (", std::strerror(err), ")");
  }
}

}  // namespace btadapter::eval::detail
