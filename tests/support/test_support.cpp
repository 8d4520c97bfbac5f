#include "support/test_support.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>

namespace fs = std::filesystem;

namespace btadapter::testing {

fs::path fixture_dir() {
  const fs::path dir = source_dir() / "tests" / "fixtures";
  if (!fs::is_directory(dir)) {
    throw std::runtime_error("test fixtures folder not found at " + dir.string() +
                             " (it is part of the repository: tests/fixtures/)");
  }
  return dir;
}

fs::path fixture_path(const std::string& relative) {
  fs::path p = fixture_dir() / relative;
  if (!fs::exists(p)) throw std::runtime_error("missing test fixture " + p.string() + " (see tests/fixtures/README.md)");
  return p;
}

std::string clip_vocab() { return fixture_path("tokenizer/bpe_simple_vocab_16e6.txt.gz").string(); }

fs::path tool_path(const std::string& name) {
  fs::path p = fs::path(BTADAPTER_BINARY_DIR) / name;
  if (!fs::exists(p)) throw std::runtime_error("tool not built: " + p.string());
  return p;
}

fs::path source_dir() { return fs::path(BTADAPTER_SOURCE_DIR); }

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = fs::temp_directory_path() / ("btadapter-test-" + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("could not create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for: " + command);
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

std::string expect_error(const std::function<void()>& f, std::initializer_list<std::string> fragments, const char* file,
                         int line) {
  const std::string message = error_of(f);
  for (const std::string& fragment : fragments) {
    if (message.find(fragment) == std::string::npos) {
      ADD_FAILURE_AT(file, line) << "expected an error containing '" << fragment << "', got: " << message;
    }
  }
  return message;
}

std::string expect_error(const std::function<void()>& f, const std::string& fragment, const char* file, int line) {
  return expect_error(f, {fragment}, file, line);
}

NoTf32Guard::NoTf32Guard()
    : cudnn_(at::globalContext().allowTF32CuDNN()), cublas_(at::globalContext().allowTF32CuBLAS()) {
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
}

NoTf32Guard::~NoTf32Guard() {
  at::globalContext().setAllowTF32CuDNN(cudnn_);
  at::globalContext().setAllowTF32CuBLAS(cublas_);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() == 0) return 0.0;
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

}  // namespace btadapter::testing
