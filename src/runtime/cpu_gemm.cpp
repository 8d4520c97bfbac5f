#include "runtime/cpu_gemm.h"

#include <dlfcn.h>

namespace btadapter::detail {

CblasSgemm cblas_sgemm() {
  static const auto fn = reinterpret_cast<CblasSgemm>(dlsym(RTLD_DEFAULT, "cblas_sgemm"));
  return fn;
}

DnnlSgemm dnnl_sgemm() {
  static const auto fn = reinterpret_cast<DnnlSgemm>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
  return fn;
}

}  // namespace btadapter::detail
