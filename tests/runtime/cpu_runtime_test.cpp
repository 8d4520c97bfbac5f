// configure_cpu_runtime: thread counts are applied and reported, and with freed memory kept a large block
// is no longer served by mmap (which glibc hands back to the kernel on free).
#include <gtest/gtest.h>

#include "btadapter/runtime/cpu_runtime.h"
#include "support/test_support.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <malloc.h>

using namespace btadapter;
using btadapter::testing::expect_error;

TEST(CpuRuntime, AppliesAndReportsThreadCounts) {
  const auto state = configure_cpu_runtime(CpuRuntimeOptions().torch_threads(1).blas_threads(1));
  EXPECT_GE(state.cores, 1);
  EXPECT_EQ(state.torch_threads, 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  // Debian's LibTorch loads OpenBLAS; whichever BLAS is found must report what was set.
  EXPECT_EQ(state.blas, "openblas");
  EXPECT_EQ(state.blas_threads, 1);
  EXPECT_NE(describe(state).find("LibTorch threads 1, openblas threads 1"), std::string::npos) << describe(state);
}

TEST(CpuRuntime, AutomaticChoiceGivesTheCoresToLibTorchWhenOneDnnRunsTheGemms) {
  // ctest sets both variables (and the environment would win over the automatic choice).
  unsetenv("OMP_NUM_THREADS");
  unsetenv("OPENBLAS_NUM_THREADS");
  unsetenv("LOCAL_WORLD_SIZE");
  const auto state = configure_cpu_runtime();
  // Debian's LibTorch loads oneDNN: every core for LibTorch's pool (oneDNN's GEMMs run there), one for BLAS.
  ASSERT_TRUE(state.onednn_gemm);
  EXPECT_EQ(state.torch_threads, state.cores);
  EXPECT_EQ(state.blas_threads, 1);
  EXPECT_NE(describe(state).find("GEMMs on oneDNN"), std::string::npos) << describe(state);
  // Two processes on this machine share the cores.
  setenv("LOCAL_WORLD_SIZE", "2", 1);
  EXPECT_EQ(configure_cpu_runtime().torch_threads, std::max(1, state.cores / 2));
  unsetenv("LOCAL_WORLD_SIZE");
  configure_cpu_runtime(CpuRuntimeOptions().torch_threads(1).blas_threads(1));
}

TEST(CpuRuntime, KeptFreedMemoryServesLargeBlocksFromTheHeap) {
  const auto state = configure_cpu_runtime(CpuRuntimeOptions().torch_threads(1).blas_threads(1));
  ASSERT_TRUE(state.keeps_freed_memory);
  const size_t before = mallinfo2().hblkhd;  // bytes in mmap-served blocks
  void* block = std::malloc(64 << 20);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(mallinfo2().hblkhd, before);
  std::free(block);
}

TEST(CpuRuntime, RejectsNegativeThreadCounts) {
  expect_error([&] { configure_cpu_runtime(CpuRuntimeOptions().torch_threads(-1)); }, "expected thread counts >= 0");
}
