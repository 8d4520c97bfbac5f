#include "btadapter/model/linear.h"

#include "btadapter/runtime/autocast.h"

#include "runtime/cpu_gemm.h"

#include <torch/torch.h>

namespace btadapter {
namespace {

// alpha op(a) op(b) for contiguous 2-d float tensors (op = transpose when the flag is set).
torch::Tensor product(bool trans_a, bool trans_b, const torch::Tensor& a, const torch::Tensor& b, float alpha) {
  const int64_t m = trans_a ? a.size(1) : a.size(0), n = trans_b ? b.size(0) : b.size(1);
  const int64_t k = trans_a ? a.size(0) : a.size(1);
  auto c = torch::empty({m, n}, a.options());
  if (c.numel() == 0) return c;
  const int status = detail::dnnl_sgemm()(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a.data_ptr<float>(),
                                          a.size(1), b.data_ptr<float>(), b.size(1), 0.0f, c.data_ptr<float>(), n);
  TORCH_CHECK(status == 0, "linear: oneDNN's sgemm failed with status ", status, " for a ", m, "x", k, " by ", k, "x",
              n, " product");
  return c;
}

torch::Tensor with_last_dim(const torch::Tensor& x, const torch::Tensor& rows) {
  auto sizes = x.sizes().vec();
  sizes.back() = rows.size(1);
  return rows.view(sizes);
}

class OnednnLinear : public torch::autograd::Function<OnednnLinear> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias, double alpha,
                               double bias_scale) {
    const auto rows = x.reshape({-1, x.size(-1)}).contiguous();
    const auto w = weight.contiguous();
    auto out = product(false, true, rows, w, static_cast<float>(alpha));
    const bool has_bias = bias.numel() > 0;  // an empty placeholder stands for none (see linear())
    if (has_bias) out.add_(bias, bias_scale);
    ctx->save_for_backward({rows, w});
    ctx->saved_data["alpha"] = alpha;
    ctx->saved_data["bias_scale"] = bias_scale;
    ctx->saved_data["has_bias"] = has_bias;
    ctx->saved_data["x_sizes"] = x.sizes().vec();
    return with_last_dim(x, out);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& rows = saved[0];
    const auto& w = saved[1];
    const auto alpha = static_cast<float>(ctx->saved_data["alpha"].toDouble());
    const auto g = grads[0].reshape({-1, w.size(0)}).contiguous();
    torch::Tensor grad_x, grad_w, grad_b;
    if (ctx->needs_input_grad(0)) grad_x = product(false, false, g, w, alpha);
    if (ctx->needs_input_grad(1)) grad_w = product(true, false, g, rows, alpha);
    if (ctx->needs_input_grad(2) && ctx->saved_data["has_bias"].toBool()) {
      grad_b = g.sum(0) * ctx->saved_data["bias_scale"].toDouble();
    }
    if (grad_x.defined()) grad_x = grad_x.view(ctx->saved_data["x_sizes"].toIntVector());
    return {grad_x, grad_w, grad_b, torch::Tensor(), torch::Tensor()};
  }
};

bool onednn_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const auto cpu_float = [](const torch::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == torch::kFloat; };
  // Under CPU autocast ATen's addmm is the op that autocast lowers to bf16.
  return has_onednn_gemm() && !AutocastGuard::current_autocast_dtype(c10::DeviceType::CPU) && cpu_float(x) &&
         cpu_float(weight) && (!bias.defined() || cpu_float(bias));
}

}  // namespace

bool has_onednn_gemm() { return detail::dnnl_sgemm() != nullptr; }

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, double alpha,
                     double bias_scale) {
  TORCH_CHECK(x.dim() >= 1 && weight.dim() == 2 && x.size(-1) == weight.size(1) &&
                  (!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0))),
              "linear: expected x [..., K], weight [N, K] and bias [N] or none, got ", x.sizes(), ", ", weight.sizes(),
              " and ", bias.defined() ? c10::str(bias.sizes()) : std::string("none"));
  if (onednn_applies(x, weight, bias)) {
    // Function::apply takes defined tensors only; an empty bias stands for none (a real one has N > 0
    // elements unless the product is empty in N, where both are the same).
    const auto bias_or_empty = bias.defined() ? bias : torch::empty({0}, weight.options());
    return OnednnLinear::apply(x, weight, bias_or_empty, alpha, bias_scale);
  }
  const auto rows = x.reshape({-1, x.size(-1)});
  if (bias.defined()) return with_last_dim(x, torch::addmm(bias, rows, weight.t(), bias_scale, alpha));
  auto out = torch::mm(rows, weight.t());
  return with_last_dim(x, alpha == 1.0 ? out : out.mul_(alpha));
}

}  // namespace btadapter
