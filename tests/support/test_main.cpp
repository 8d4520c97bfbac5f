// Custom gtest main: tests named *_CUDA run only where a CUDA device exists, so one binary passes on
// CPU-only CI and exercises the GPU where there is one. Threads are pinned so that torch's intra-op
// pool and OpenBLAS do not oversubscribe the cores when ctest runs binaries in parallel.
#include <gtest/gtest.h>
#include <torch/torch.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  torch::set_num_threads(1);
  if (!torch::cuda::is_available()) {
    std::string filter = ::testing::GTEST_FLAG(filter);
    if (filter.find('-') == std::string::npos) filter += "-";
    else filter += ":";
    ::testing::GTEST_FLAG(filter) = filter + "*_CUDA";
  }
  return RUN_ALL_TESTS();
}
