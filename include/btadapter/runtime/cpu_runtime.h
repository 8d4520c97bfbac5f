#pragma once
/// Process-wide CPU settings that decide how fast LibTorch trains and encodes on a CPU, set on purpose in
/// one place (bt_pretrain and the benchmarks call it; an application embedding the library may too):
///
/// - Threads. LibTorch's intra-op pool (OpenMP: element-wise ops, norms, softmax, and oneDNN's GEMMs)
///   and OpenBLAS's own pool both busy-wait between jobs, so giving each every core oversubscribes the
///   machine. When oneDNN's GEMM is in the process (Debian's LibTorch; model/linear.h sends the float32
///   linear layers there), the automatic choice is every core for LibTorch and one BLAS thread (BLAS then
///   only serves attention's small per-head products, spread over LibTorch's threads by batched_matmul).
///   Without it, one LibTorch thread and the cores for the BLAS. Measured on 2 cores (small training shape,
///   bench/train_step.cpp, videos/s): with oneDNN 2 LibTorch + 1 BLAS threads 31.2, 2 + 2: 28.1, 1 + 2:
///   19.8; all on OpenBLAS: 1 + 2: 17.0, 2 + 2: 7.9, 1 + 1: 12.0. Cores are shared among the processes of
///   a multi-process run (LOCAL_WORLD_SIZE). Thread counts set in the environment win over the automatic
///   choice. On larger machines, measure with `bench_train_step --threads N --blas-threads M`.
/// - Keeping freed memory. glibc hands large blocks (mmap) back to the kernel when they are freed, so
///   every training step page-faults its activations in again; on a virtual machine a fault is slow
///   (about 11 us per 4 KiB page measured here). With freed memory kept in the process a ViT-B/16 step
///   ran 3.4x faster (0.09 -> 0.31 videos/s) at about the same peak RSS (2.70 -> 2.78 GB), because the
///   next step reuses the same blocks. The cost: RSS stays at the run's peak until the process ends.
///
/// Thread safety: call once at start-up, before other threads use LibTorch.

#include <torch/arg.h>

#include <string>

namespace btadapter {

/// What configure_cpu_runtime() sets; 0 threads = the automatic choice above.
struct CpuRuntimeOptions {
  /// LibTorch intra-op threads; 0 = automatic (above), unless OMP_NUM_THREADS is set.
  TORCH_ARG(int, torch_threads) = 0;
  /// Threads of the BLAS that LibTorch loaded (OpenBLAS or MKL, found at run time); 0 = automatic (above),
  /// unless OPENBLAS_NUM_THREADS / MKL_NUM_THREADS is set.
  TORCH_ARG(int, blas_threads) = 0;
  /// Keep freed heap memory in the process (glibc; elsewhere this is a no-op).
  TORCH_ARG(bool, keep_freed_memory) = true;
};

/// The settings in effect.
struct CpuRuntimeState {
  int cores = 0;                    ///< cores this process may run on
  int torch_threads = 0;            ///< LibTorch intra-op threads
  int blas_threads = -1;            ///< BLAS threads, -1 when the BLAS cannot be asked
  std::string blas = "unknown";     ///< "openblas", "mkl" or "unknown"
  bool onednn_gemm = false;         ///< float32 linear layers run on oneDNN (model/linear.h)
  bool keeps_freed_memory = false;  ///< freed memory stays in the process
};

/// Applies `options` and returns what is in effect.
CpuRuntimeState configure_cpu_runtime(const CpuRuntimeOptions& options = {});

/// One line for logs, e.g. "cores 2, LibTorch threads 2, openblas threads 1, GEMMs on oneDNN, freed memory kept".
std::string describe(const CpuRuntimeState& state);

}  // namespace btadapter
