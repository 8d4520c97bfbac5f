#include "btadapter/dist/gather.h"

#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace btadapter::dist {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Row counts of every rank, in rank order.
std::vector<int64_t> gather_sizes(const torch::Tensor& local, ProcessGroup& group) {
  auto size = torch::full({1}, local.size(0), torch::TensorOptions().dtype(torch::kLong).device(local.device()));
  auto sizes = group.all_gather(size).cpu();
  return std::vector<int64_t>(sizes.data_ptr<int64_t>(), sizes.data_ptr<int64_t>() + sizes.numel());
}

// Pads every rank's rows to the largest count for the transfer, then drops the padding.
std::vector<torch::Tensor> gather_padded(const torch::Tensor& local, const std::vector<int64_t>& sizes,
                                         ProcessGroup& group) {
  const int64_t most = *std::max_element(sizes.begin(), sizes.end());
  torch::Tensor gathered;
  if (std::all_of(sizes.begin(), sizes.end(), [&](int64_t n) { return n == most; })) {
    gathered = group.all_gather(local);
  } else {
    auto shape = local.sizes().vec();
    shape[0] = most - local.size(0);
    gathered = group.all_gather(torch::cat({local, torch::zeros(shape, local.options())}, 0));
  }
  std::vector<torch::Tensor> parts;
  for (size_t r = 0; r < sizes.size(); ++r) parts.push_back(gathered.narrow(0, static_cast<int64_t>(r) * most, sizes[r]));
  return parts;
}

class GatherWithGrad : public torch::autograd::Function<GatherWithGrad> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor local, ProcessGroup* group, GatherMode mode) {
    auto sizes = gather_sizes(local, *group);
    const int64_t offset = std::accumulate(sizes.begin(), sizes.begin() + group->rank(), int64_t{0});
    // The group pointer travels as an integer: saved_data holds IValues only. The header documents
    // that the group outlives the backward pass.
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group);
    ctx->saved_data["sum"] = mode == GatherMode::kSum;
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["rows"] = local.size(0);
    return torch::cat(gather_padded(local.contiguous(), sizes, *group), 0);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto* group = reinterpret_cast<ProcessGroup*>(ctx->saved_data["group"].toInt());
    torch::Tensor grad = grad_outputs[0].contiguous();
    if (ctx->saved_data["sum"].toBool()) {
      grad = grad.clone();
      group->all_reduce_sum(grad);
    }
    grad = grad.narrow(0, ctx->saved_data["offset"].toInt(), ctx->saved_data["rows"].toInt());
    return {grad, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

std::vector<torch::Tensor> all_gather_varying(const torch::Tensor& local, ProcessGroup& group) {
  TORCH_CHECK(local.dim() >= 1, "all_gather_varying: expected a tensor with a leading dimension, got ",
              local.dim(), " dims");
  if (group.world_size() == 1) return {local};
  torch::NoGradGuard no_grad;
  return gather_padded(local.contiguous(), gather_sizes(local, group), group);
}

torch::Tensor gather_with_grad(const torch::Tensor& local, ProcessGroup& group, GatherMode mode) {
  TORCH_CHECK(local.dim() >= 1, "gather_with_grad: expected a tensor with a batch dimension, got ",
              local.dim(), " dims");
  if (group.world_size() == 1) return local;
  return GatherWithGrad::apply(local, &group, mode);
}

}  // namespace btadapter::dist
