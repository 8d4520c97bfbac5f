#include "llm/cpu_kernels.h"

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <torch/torch.h>

#include <dlfcn.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BTADAPTER_LLM_AVX512_BF16 1
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace btadapter::llm::detail {
namespace {

// oneDNN's row-major bf16 GEMM with f32 output, C = alpha op(A) op(B) + beta C (dnnl_sgemm's convention;
// the library exports it, with no public header). Called inside a parallel region it runs on one thread.
using DnnlGemmBf16 = int (*)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const void* a,
                             int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc);

DnnlGemmBf16 dnnl_gemm_bf16() {
  static const auto fn = reinterpret_cast<DnnlGemmBf16>(dlsym(RTLD_DEFAULT, "dnnl_gemm_bf16bf16f32"));
  return fn;
}

void gemm_bf16(char transb, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda, const void* b, int64_t ldb,
               float* c, int64_t ldc) {
  const int status = dnnl_gemm_bf16()('N', transb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  TORCH_CHECK(status == 0, "oneDNN's bf16 GEMM failed with status ", status, " for a ", m, "x", k, " by ", k, "x", n,
              " product");
}

#ifdef BTADAPTER_LLM_AVX512_BF16
bool cpu_has_avx512_bf16() {
  static const bool has = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
  return has;
}

// The sum of the 16 lanes (not _mm512_reduce_add_ps, which trips GCC 12's -Wmaybe-uninitialized).
__attribute__((target("avx512f"))) float lane_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float sum = 0.0f;
  for (const float lane : lanes) sum += lane;
  return sum;
}

// y[r] = dot(w[r, :], x) for rows [begin, end); K elements per row, f32 accumulation. Four rows share each
// load of x; the K % 32 tail goes through masked loads.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void gemv_rows(const uint16_t* w, const uint16_t* x, float* y,
                                                                      int64_t begin, int64_t end, int64_t k) {
  const int64_t body = k / 32 * 32;
  const __mmask32 tail = static_cast<__mmask32>((uint64_t{1} << (k - body)) - 1);
  int64_t r = begin;
  for (; r + 4 <= end; r += 4) {
    const uint16_t* w0 = w + r * k;
    const uint16_t *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < body; i += 32) {
      const auto xv = (__m512bh)_mm512_loadu_si512(x + i);
      a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512(w0 + i), xv);
      a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_loadu_si512(w1 + i), xv);
      a2 = _mm512_dpbf16_ps(a2, (__m512bh)_mm512_loadu_si512(w2 + i), xv);
      a3 = _mm512_dpbf16_ps(a3, (__m512bh)_mm512_loadu_si512(w3 + i), xv);
    }
    if (tail) {
      const auto xv = (__m512bh)_mm512_maskz_loadu_epi16(tail, x + body);
      a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_maskz_loadu_epi16(tail, w0 + body), xv);
      a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_maskz_loadu_epi16(tail, w1 + body), xv);
      a2 = _mm512_dpbf16_ps(a2, (__m512bh)_mm512_maskz_loadu_epi16(tail, w2 + body), xv);
      a3 = _mm512_dpbf16_ps(a3, (__m512bh)_mm512_maskz_loadu_epi16(tail, w3 + body), xv);
    }
    y[r] = lane_sum(a0);
    y[r + 1] = lane_sum(a1);
    y[r + 2] = lane_sum(a2);
    y[r + 3] = lane_sum(a3);
  }
  for (; r < end; ++r) {
    const uint16_t* wr = w + r * k;
    __m512 a = _mm512_setzero_ps();
    for (int64_t i = 0; i < body; i += 32) {
      a = _mm512_dpbf16_ps(a, (__m512bh)_mm512_loadu_si512(wr + i), (__m512bh)_mm512_loadu_si512(x + i));
    }
    if (tail) {
      a = _mm512_dpbf16_ps(a, (__m512bh)_mm512_maskz_loadu_epi16(tail, wr + body),
                           (__m512bh)_mm512_maskz_loadu_epi16(tail, x + body));
    }
    y[r] = lane_sum(a);
  }
}

void gemv_bf16(const torch::Tensor& x, const torch::Tensor& w, float* y) {
  const int64_t n = w.size(0), k = w.size(1);
  const auto* xp = reinterpret_cast<const uint16_t*>(x.data_ptr());
  const auto* wp = reinterpret_cast<const uint16_t*>(w.data_ptr());
  // Blocks of 64 rows (512 KB of a 4096-wide matrix) keep each thread on long sequential streams.
  constexpr int64_t kRowsPerBlock = 64;
  at::parallel_for(0, (n + kRowsPerBlock - 1) / kRowsPerBlock, 1, [&](int64_t b0, int64_t b1) {
    gemv_rows(wp, xp, y, b0 * kRowsPerBlock, std::min(n, b1 * kRowsPerBlock), k);
  });
}
#else
bool cpu_has_avx512_bf16() { return false; }
void gemv_bf16(const torch::Tensor&, const torch::Tensor&, float*) {}
#endif

bool cpu_bf16(const torch::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == torch::kBFloat16; }

}  // namespace

bool fast_bf16_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  const bool needs_grad = torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad());
  return !needs_grad && cpu_bf16(x) && cpu_bf16(weight) && dnnl_gemm_bf16() != nullptr;
}

torch::Tensor project_bf16(const torch::Tensor& x, const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 2 && x.size(-1) == weight.size(1), "project: expected x [..., ", weight.size(1),
              "] and a 2-d weight, got ", x.sizes(), " and ", weight.sizes());
  const auto rows = x.reshape({-1, x.size(-1)}).contiguous();
  const int64_t m = rows.size(0), n = weight.size(0), k = weight.size(1);
  auto sizes = x.sizes().vec();
  sizes.back() = n;
  // Past a few rows the product is compute-bound and ATen's GEMM is faster than oneDNN's bf16 one here.
  constexpr int64_t kMaxGemmRows = 16;
  if (m > kMaxGemmRows) return torch::mm(rows, weight.t()).view(sizes);
  const auto w = weight.contiguous();
  auto out = torch::empty({m, n}, rows.options().dtype(torch::kFloat));
  if (out.numel() == 0) return out.to(torch::kBFloat16).view(sizes);
  if (m == 1 && cpu_has_avx512_bf16()) {
    gemv_bf16(rows, w, out.data_ptr<float>());
  } else {
    gemm_bf16('T', m, n, k, rows.data_ptr(), k, w.data_ptr(), k, out.data_ptr<float>(), n);
  }
  return out.to(torch::kBFloat16).view(sizes);
}

torch::Tensor attend_bf16(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values,
                          double scale) {
  const int64_t batch = q.size(0), heads = q.size(1), n = q.size(2), d = q.size(3);
  const int64_t kv_heads = keys.size(1), length = keys.size(2), past = length - n;
  TORCH_CHECK(keys.stride(3) == 1 && values.stride(3) == 1 && keys.stride(2) == d && values.stride(2) == d &&
                  values.sizes() == keys.sizes() && past >= 0,
              "attend: expected row-major keys/values [B, KVH, L >= N, d], got ", keys.sizes(), " with strides ",
              keys.strides());
  const auto qc = q.contiguous();
  auto out = torch::empty({batch, heads, n, d}, q.options());
  const int64_t group = heads / kv_heads;
  const auto* qp = static_cast<const c10::BFloat16*>(qc.data_ptr());
  const auto* kp = static_cast<const c10::BFloat16*>(keys.data_ptr());
  const auto* vp = static_cast<const c10::BFloat16*>(values.data_ptr());
  auto* op = static_cast<c10::BFloat16*>(out.data_ptr());
  at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(n * length), mixed(n * d);
    std::vector<c10::BFloat16> probs(n * length);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / heads, kvh = bh % heads / group;
      const auto* k_head = kp + b * keys.stride(0) + kvh * keys.stride(1);
      const auto* v_head = vp + b * values.stride(0) + kvh * values.stride(1);
      gemm_bf16('T', n, length, d, qp + bh * n * d, d, k_head, d, scores.data(), length);
      for (int64_t i = 0; i < n; ++i) {
        float* row = scores.data() + i * length;
        const int64_t visible = past + i + 1;  // causal: keys 0 .. past + i
        float top = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < visible; ++j) top = std::max(top, row[j] = row[j] * static_cast<float>(scale));
        float sum = 0.0f;
        for (int64_t j = 0; j < visible; ++j) sum += row[j] = std::exp(row[j] - top);
        for (int64_t j = 0; j < length; ++j) probs[i * length + j] = j < visible ? row[j] / sum : 0.0f;
      }
      gemm_bf16('N', n, d, length, probs.data(), length, v_head, d, mixed.data(), d);
      for (int64_t i = 0; i < n * d; ++i) op[bh * n * d + i] = mixed[i];
    }
  });
  return out;
}

}  // namespace btadapter::llm::detail
