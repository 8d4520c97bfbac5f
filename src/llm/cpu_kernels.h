#pragma once
// bfloat16 CPU inference kernels of the LLaMA (no autograd), found or checked at run time:
// - project: x W^T. One row (decoding: a GEMV per weight matrix, memory-bound) runs on an AVX-512 BF16
//   kernel (vdpbf16ps, f32 accumulation, rows split over LibTorch's threads); a few rows on oneDNN's
//   `dnnl_gemm_bf16bf16f32`; many rows (prefill) on ATen's matmul, the fastest of the three for a GEMM
//   here. LibTorch 1.13's own bf16 GEMV reached about 5.7 GB/s of weights on this 2-core VM, oneDNN's 9.
// - attend: per-head causal attention on oneDNN's bf16 GEMM with f32 scores and softmax; ATen's bf16
//   matmul for the 32 heads of one decoding step took 12 ms per product (LLaMA-7B shape, 300 keys).
// Everything else (float32, CUDA, autograd, a CPU without AVX-512 BF16 or a LibTorch without oneDNN)
// is the callers' ATen path.

#include <torch/types.h>

namespace btadapter::llm::detail {

// True when x and weight are bf16 CPU tensors that need no gradient and a fast kernel exists.
bool fast_bf16_applies(const torch::Tensor& x, const torch::Tensor& weight);

// x [..., K] times weight [N, K] transposed -> [..., N] bf16 (requires fast_bf16_applies).
torch::Tensor project_bf16(const torch::Tensor& x, const torch::Tensor& weight);

// softmax(q k^T * scale + causal mask) v for q [B, H, N, d] and keys/values [B, KVH, L, d] (last two dims
// row-major: views of a KVCache qualify), query i at position L - N + i; -> [B, H, N, d] bf16.
// Requires fast_bf16_applies(q, keys).
torch::Tensor attend_bf16(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values, double scale);

}  // namespace btadapter::llm::detail
