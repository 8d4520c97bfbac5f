#pragma once
// A copy of a parity fixture folder for tests that perturb what it expects.

#include "btadapter/io/safetensors.h"

#include <filesystem>

namespace btadapter::testing {

/// Links every file of the fixture folder `from` into `to` except expected.safetensors, which is
/// written as `expected`.
inline void make_fixture_variant(const std::filesystem::path& from, const std::filesystem::path& to,
                                 const io::TensorMap& expected) {
  for (const auto& entry : std::filesystem::directory_iterator(from)) {
    if (entry.path().filename() != "expected.safetensors") {
      std::filesystem::create_symlink(entry.path(), to / entry.path().filename());
    }
  }
  io::write_safetensors((to / "expected.safetensors").string(), expected);
}

}  // namespace btadapter::testing
