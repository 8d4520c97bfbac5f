// Custom gtest main. Threads are pinned so that torch's intra-op pool and OpenBLAS do not oversubscribe the
// cores when ctest runs binaries in parallel. Tests that need a GPU (named *_CUDA) skip themselves with
// BT_SKIP_WITHOUT_CUDA (support/test_support.h) where there is none.
#include <gtest/gtest.h>
#include <torch/torch.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  torch::set_num_threads(1);
  return RUN_ALL_TESTS();
}
