#pragma once
// Which parameters belong to the trainable branch, by their official names; written independently of the
// library's own freezing rule so the tests check it.
#include <string>

namespace btadapter::testing {

inline bool is_branch_parameter(const std::string& name) {
  return name.find("btadapter") != std::string::npos || name.find("balance") != std::string::npos ||
         name.find("extra_proj") != std::string::npos;
}

}  // namespace btadapter::testing
