#include "atomic_file.h"

#include <c10/util/Exception.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace btadapter::data::detail {

namespace fs = std::filesystem;

std::string temp_path_for(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / ("." + p.stem().string() + ".tmp" + std::to_string(::getpid()) + p.extension().string()))
      .string();
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = temp_path_for(path);
  {
    std::ofstream out(tmp, std::ios::binary);
    TORCH_CHECK(out.is_open(), "cannot write '", path, "' (temporary '", tmp, "')");
    out << text;
    TORCH_CHECK(out.good(), "writing '", path, "' failed");
  }
  fs::rename(tmp, path);
}

}  // namespace btadapter::data::detail
