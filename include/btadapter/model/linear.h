#pragma once
/// The model's linear layers: alpha * x W^T + bias_scale * b over the last dimension, differentiable.
///
/// Why not torch::linear: on the CPU, LibTorch 1.13 sends float32 products to OpenBLAS, whose kernels on
/// this project's reference machine (AMD EPYC with AVX-512) are the AVX2 ones, and whose worker threads
/// busy-wait beside LibTorch's own pool. oneDNN, which LibTorch loads too, has AVX-512 kernels and runs on
/// LibTorch's OpenMP threads, so element-wise ops and GEMMs share one pool (runtime/cpu_runtime.h gives it
/// the cores). bench_layer_ops, 2 cores, OpenBLAS with 1 LibTorch + 2 BLAS threads -> oneDNN with 2 + 1:
/// the small shape's q, k, v projection 7.2 -> 3.5 ms, ViT-B/16's 117 -> 57 ms (about 300 GFLOP/s, where
/// OpenBLAS peaks near 190). So float32 CPU tensors go to oneDNN's `dnnl_sgemm` (found at run time, like
/// batched_matmul's BLAS); everything else (CUDA, other dtypes, CPU autocast, a LibTorch whose oneDNN is
/// not exported) goes to ATen's addmm.
///
/// The scales let callers fold constants into the product (QuickGELU's 1.702, see encoder_layer.cpp).
///
/// Thread safety: stateless; safe to call concurrently.

#include <torch/types.h>

namespace btadapter {

/// alpha * x [..., K] W^T ([N, K]) + bias_scale * bias ([N], may be undefined) -> [..., N].
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     double alpha = 1.0, double bias_scale = 1.0);

/// True when linear() runs float32 CPU products on oneDNN in this process.
bool has_onednn_gemm();

}  // namespace btadapter
