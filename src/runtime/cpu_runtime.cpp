#include "btadapter/runtime/cpu_runtime.h"

#include "runtime/cpu_gemm.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace btadapter {
namespace {

// The BLAS's thread controls, looked up in the process: LibTorch loads the BLAS, we never link one.
struct BlasThreads {
  std::string name = "unknown";
  const char* env = nullptr;  // the variable that sets its threads
  void (*set)(int) = nullptr;
  int (*get)() = nullptr;
};

template <typename Fn>
Fn lookup(const char* symbol) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, symbol));
}

BlasThreads find_blas() {
  BlasThreads blas;
  if ((blas.set = lookup<void (*)(int)>("openblas_set_num_threads"))) {
    blas.name = "openblas";
    blas.env = "OPENBLAS_NUM_THREADS";
    blas.get = lookup<int (*)()>("openblas_get_num_threads");
  } else if ((blas.set = lookup<void (*)(int)>("MKL_Set_Num_Threads"))) {
    blas.name = "mkl";
    blas.env = "MKL_NUM_THREADS";
    blas.get = lookup<int (*)()>("MKL_Get_Max_Threads");
  }
  return blas;
}

bool env_set(const char* name) { return name && std::getenv(name) && *std::getenv(name); }

// Processes sharing this machine's cores (torchrun and scripts/launch_local.sh export LOCAL_WORLD_SIZE).
int processes_per_machine() {
  const char* value = std::getenv("LOCAL_WORLD_SIZE");
  const int n = value ? std::atoi(value) : 1;
  return n > 0 ? n : 1;
}

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return 1;
}

// glibc: never serve large blocks with mmap (those go back to the kernel on free) and never trim the heap.
bool keep_freed_memory() {
#ifdef __GLIBC__
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
#else
  return false;
#endif
}

}  // namespace

CpuRuntimeState configure_cpu_runtime(const CpuRuntimeOptions& options) {
  TORCH_CHECK(options.torch_threads() >= 0 && options.blas_threads() >= 0,
              "configure_cpu_runtime: expected thread counts >= 0 (0 = automatic), got torch_threads ",
              options.torch_threads(), " and blas_threads ", options.blas_threads());
  CpuRuntimeState state;
  state.cores = available_cores();
  const BlasThreads blas = find_blas();
  state.blas = blas.name;
  state.onednn_gemm = detail::dnnl_sgemm() != nullptr;
  // Automatic choices (see the header) give way to thread counts the user put in the environment.
  const int share = std::max(1, state.cores / processes_per_machine());
  const int auto_blas = state.onednn_gemm ? 1 : share;
  const int auto_torch = state.onednn_gemm || !blas.set ? share : 1;
  if (options.blas_threads() > 0) {
    if (blas.set) blas.set(options.blas_threads());
  } else if (blas.set && !env_set(blas.env)) {
    blas.set(auto_blas);
  }
  if (options.torch_threads() > 0) {
    at::set_num_threads(options.torch_threads());
  } else if (!env_set("OMP_NUM_THREADS")) {
    at::set_num_threads(auto_torch);
  }
  state.torch_threads = at::get_num_threads();
  state.blas_threads = blas.get ? blas.get() : -1;
  state.keeps_freed_memory = options.keep_freed_memory() && keep_freed_memory();
  return state;
}

std::string describe(const CpuRuntimeState& state) {
  return "cores " + std::to_string(state.cores) + ", LibTorch threads " + std::to_string(state.torch_threads) + ", " +
         state.blas + " threads " + (state.blas_threads < 0 ? std::string("?") : std::to_string(state.blas_threads)) +
         (state.onednn_gemm ? ", GEMMs on oneDNN" : "") + ", freed memory " +
         (state.keeps_freed_memory ? "kept" : "returned to the system");
}

}  // namespace btadapter
