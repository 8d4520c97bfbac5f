#pragma once
// The single-precision GEMMs of the libraries LibTorch itself loaded, found at run time with dlsym (never
// linked by us: linking could pick a different library than LibTorch's, and would be a new dependency).
// Either may be missing (a LibTorch with static MKL or oneDNN exports neither); callers fall back to ATen.

#include <cstdint>

namespace btadapter::detail {

// CBLAS, row-major: C = alpha op(A) op(B) + beta C.
enum : int { kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112 };
using CblasSgemm = void (*)(int order, int transa, int transb, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* b, int ldb, float beta, float* c, int ldc);

// oneDNN's dnnl_sgemm, row-major, transa/transb 'N' or 'T'; runs on LibTorch's OpenMP threads.
using DnnlSgemm = int (*)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

CblasSgemm cblas_sgemm();
DnnlSgemm dnnl_sgemm();

}  // namespace btadapter::detail
