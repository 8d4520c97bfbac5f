#pragma once
/// Scaled batched matrix product alpha * ([..., M, K] x [..., K, P]) -> [..., M, P] (same leading sizes, no broadcasting),
/// differentiable, for attention on CPU.
///
/// Why not torch::matmul: LibTorch 1.13's CPU bmm runs one dispatched addmm (plus a select per operand)
/// for every matrix of the batch, and attention is thousands of small matrices per call (the temporal
/// branch attends over T = 8 frames: 8x64 by 64x8 products). The dispatch costs more than the arithmetic:
/// about a quarter of a small-model training step. This calls the BLAS `cblas_sgemm` that LibTorch
/// itself loaded, once per matrix with no dispatch, on strided views (a transposed operand is passed to
/// BLAS as transposed, not copied), spread over LibTorch's intra-op threads.
///
/// float32 CPU tensors only when such a BLAS is in the process (Debian's LibTorch links OpenBLAS
/// dynamically); anything else (CUDA, other dtypes, a LibTorch with a static MKL) goes to torch::matmul.
///
/// Thread safety: stateless; safe to call concurrently.

#include <torch/types.h>

namespace btadapter {

/// alpha * (a [..., M, K] x b [..., K, P]) with equal leading sizes -> [..., M, P]. The scale is applied by
/// the GEMM itself (attention's head_dim^-0.5 costs no extra pass over the queries).
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, double alpha = 1.0);

/// True when batched_matmul can call BLAS directly for float32 CPU tensors in this process.
bool has_direct_cpu_gemm();

}  // namespace btadapter
