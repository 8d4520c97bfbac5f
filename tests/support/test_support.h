#pragma once
// Helpers shared by the test binaries: where the test fixtures live, where the built tools are,
// scratch folders, and tolerance checks that print the worst element on failure.

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>
#include <initializer_list>

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

/// The one error assertion of the tests: EXPECT that `f` throws an error whose message contains
/// `fragment` (or every one of `fragments`). A failure is reported at the caller's file and line and
/// quotes the message. Returns the message ("(no error)" when `f` returned) for any further checks.
std::string expect_error(const std::function<void()>& f, const std::string& fragment,
                         const char* file = __builtin_FILE(), int line = __builtin_LINE());
std::string expect_error(const std::function<void()>& f, std::initializer_list<std::string> fragments,
                         const char* file = __builtin_FILE(), int line = __builtin_LINE());

/// Max |a - b| over all elements (as double).
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);

/// While alive, float32 stays float32 on the GPU: cuDNN convolutions (and, where enabled, cuBLAS matrix
/// products) may otherwise round their inputs to TF32's 10 mantissa bits, which CPU comparisons would see.
class NoTf32Guard {
 public:
  NoTf32Guard();
  ~NoTf32Guard();
  NoTf32Guard(const NoTf32Guard&) = delete;
  NoTf32Guard& operator=(const NoTf32Guard&) = delete;

 private:
  bool cudnn_, cublas_;
};

}  // namespace btadapter::testing

/// First statement of a test that needs a GPU (name it *_CUDA): without a CUDA device the test is reported
/// as skipped, so the test list and the counts are the same on every machine.
#define BT_SKIP_WITHOUT_CUDA()                                               \
  do {                                                                       \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device"; \
  } while (0)

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
