#pragma once
// Helpers shared by the test binaries: where the test fixtures live, where the built tools are,
// scratch folders, and tolerance checks that print the worst element on failure.

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>

namespace btadapter::testing {

/// The repository's `tests/fixtures/` (parity, conversation, tokenizer). Fails the test loudly when
/// missing: fixture-based tests must never skip.
std::filesystem::path fixture_dir();

/// A path inside fixture_dir(); throws when the file or folder does not exist.
std::filesystem::path fixture_path(const std::string& relative);

/// The build folder's tool binary (e.g. "bt_parity").
std::filesystem::path tool_path(const std::string& name);

/// The project's source root.
std::filesystem::path source_dir();

/// A fresh, empty folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// CLIP's BPE vocabulary (fixture).
std::string clip_vocab();

/// Result of running a shell command: exit code and captured stdout+stderr.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_command(const std::string& command);

/// The message of what `f` throws: a c10::Error without its backtrace, or std::exception::what();
/// "(no error)" when `f` returns normally.
std::string error_of(const std::function<void()>& f);

/// EXPECT that `f` throws an error whose message contains `fragment`.
void expect_error(const std::function<void()>& f, const std::string& fragment);

/// Max |a - b| over all elements (as double).
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace btadapter::testing

/// EXPECT that two tensors have the same shape and |a-b| <= atol + rtol*|b| everywhere.
#define BT_EXPECT_CLOSE(actual, expected, atol, rtol)                                          \
  do {                                                                                         \
    auto bt_a_ = (actual).to(torch::kDouble);                                                  \
    auto bt_e_ = (expected).to(torch::kDouble);                                                \
    ASSERT_EQ(bt_a_.sizes(), bt_e_.sizes());                                                   \
    auto bt_excess_ = ((bt_a_ - bt_e_).abs() - ((atol) + (rtol)*bt_e_.abs())).max().item<double>(); \
    EXPECT_LE(bt_excess_, 0.0) << "max abs diff "                                             \
                               << btadapter::testing::max_abs_diff(bt_a_, bt_e_);             \
  } while (0)
