#pragma once
// The catch-and-exit block every bt_* main shares: the body's exception becomes one line
// "<tool>: <message>" on stderr, without LibTorch's C++ backtrace, and the exit status `error_status`.
//
//   int main(int argc, char** argv) {
//     ...parse the command line (CLI11 exits on its own errors)...
//     return btadapter::tools::run_main("bt_x", [&] { ...; return 0; });
//   }

#include <c10/util/Exception.h>

#include <exception>
#include <functional>
#include <iostream>
#include <string>

namespace btadapter::tools {

/// The message of an exception without LibTorch's C++ backtrace.
inline std::string error_message(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) return error->what_without_backtrace();
  return e.what();
}

/// Runs `body` and returns its exit status; an exception is printed as "<tool>: <message>" and gives
/// `error_status` (1; bt_parity keeps 1 for a parity failure and uses 2 for an error).
inline int run_main(const char* tool, const std::function<int()>& body, int error_status = 1) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::cerr << tool << ": " << error_message(e) << std::endl;
    return error_status;
  }
}

}  // namespace btadapter::tools
