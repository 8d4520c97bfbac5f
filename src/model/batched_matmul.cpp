#include "btadapter/model/batched_matmul.h"

#include "runtime/cpu_gemm.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <limits>

namespace btadapter {
namespace {

using detail::kCblasNoTrans;
using detail::kCblasTrans;

// How BLAS reads the last two dims of x [..., R, C]: row-major with leading dimension `ld`, or the
// row-major transpose of a tightly stored [C, R] matrix; `usable` is false when neither (then x is made
// contiguous). A transposed operand with a wide leading dimension (k^T cut from a fused qkv tensor) is
// copied first: OpenBLAS read it in place 11x slower than copy + product (small shape's frozen attention
// scores, bench/layer_ops.cpp: 18.9 against 1.7 ms).
struct MatrixLayout {
  bool usable = false;
  int trans = kCblasNoTrans;
  int64_t ld = 0;
};

MatrixLayout layout_of(const torch::Tensor& x) {
  const int64_t rows = x.size(-2), cols = x.size(-1), row_stride = x.stride(-2), col_stride = x.stride(-1);
  if (col_stride == 1 && row_stride >= std::max<int64_t>(1, cols)) return {true, kCblasNoTrans, row_stride};
  if (row_stride == 1 && col_stride == std::max<int64_t>(1, rows)) return {true, kCblasTrans, col_stride};
  return {};
}

// Offset (in elements) of matrix `index` of the flattened leading dims of x.
int64_t matrix_offset(const torch::Tensor& x, int64_t index) {
  int64_t offset = 0;
  for (int64_t d = x.dim() - 3; d >= 0; --d) {
    offset += (index % x.size(d)) * x.stride(d);
    index /= x.size(d);
  }
  return offset;
}

torch::Tensor with_usable_layout(const torch::Tensor& x) {
  if (layout_of(x).usable) return x;
  // A transposed view: copy it untransposed (runs of contiguous elements; copying the transposed view
  // gathers element by element, several times slower) and transpose the copy back (tight, usable).
  if (x.stride(-2) == 1) return x.transpose(-2, -1).contiguous().transpose(-2, -1);
  return x.contiguous();
}

torch::Tensor blas_batched_matmul(const torch::Tensor& a_in, const torch::Tensor& b_in, float alpha) {
  const auto a = with_usable_layout(a_in), b = with_usable_layout(b_in);
  const MatrixLayout la = layout_of(a), lb = layout_of(b);
  auto sizes = a.sizes().vec();
  sizes.back() = b.size(-1);
  auto c = torch::empty(sizes, a.options());
  const int64_t m = a.size(-2), k = a.size(-1), p = b.size(-1);
  const int64_t count = c.numel() == 0 ? 0 : c.numel() / (m * p);
  const float* a_data = a.data_ptr<float>();
  const float* b_data = b.data_ptr<float>();
  float* c_data = c.data_ptr<float>();
  // Enough multiply-adds per task that the threads' hand-off stays small against the work.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, m * k * p));
  at::parallel_for(0, count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      detail::cblas_sgemm()(detail::kCblasRowMajor, la.trans, lb.trans, static_cast<int>(m), static_cast<int>(p),
                            static_cast<int>(k), alpha, a_data + matrix_offset(a, i), static_cast<int>(la.ld),
                            b_data + matrix_offset(b, i), static_cast<int>(lb.ld), 0.0f, c_data + i * m * p,
                            static_cast<int>(p));
    }
  });
  return c;
}

class BatchedMatmulFunction : public torch::autograd::Function<BatchedMatmulFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b,
                               double alpha) {
    ctx->save_for_backward({a, b});
    ctx->saved_data["alpha"] = alpha;
    return blas_batched_matmul(a, b, static_cast<float>(alpha));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& a = saved[0];
    const auto& b = saved[1];
    const auto grad = grads[0];
    const auto alpha = static_cast<float>(ctx->saved_data["alpha"].toDouble());
    torch::Tensor grad_a, grad_b;
    if (ctx->needs_input_grad(0)) grad_a = blas_batched_matmul(grad, b.transpose(-2, -1), alpha);
    if (ctx->needs_input_grad(1)) grad_b = blas_batched_matmul(a.transpose(-2, -1), grad, alpha);
    return {grad_a, grad_b, torch::Tensor()};
  }
};

bool fits_int(int64_t v) { return v <= std::numeric_limits<int>::max(); }

}  // namespace

bool has_direct_cpu_gemm() { return detail::cblas_sgemm() != nullptr; }

torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, double alpha) {
  TORCH_CHECK(a.dim() >= 3 && a.dim() == b.dim() && a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2) &&
                  a.size(-1) == b.size(-2),
              "batched_matmul: expected [..., M, K] and [..., K, P] with equal leading sizes, got ", a.sizes(), " and ",
              b.sizes());
  const bool direct = has_direct_cpu_gemm() && a.device().is_cpu() && b.device().is_cpu() &&
                      a.scalar_type() == torch::kFloat && b.scalar_type() == torch::kFloat &&
                      fits_int(a.numel()) && fits_int(b.numel());
  if (!direct) return alpha == 1.0 ? torch::matmul(a, b) : torch::matmul(a * alpha, b);
  return BatchedMatmulFunction::apply(a, b, alpha);
}

}  // namespace btadapter
