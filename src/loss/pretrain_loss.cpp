#include "btadapter/loss/pretrain_loss.h"

#include <torch/torch.h>

namespace btadapter::loss {

torch::Tensor token_alignment_loss(const torch::Tensor& branch, const torch::Tensor& target) {
  TORCH_CHECK(branch.dim() >= 1 && branch.sizes() == target.sizes() && branch.numel() > 0,
              "token_alignment_loss: expected two non-empty tensors of the same shape, got ", branch.sizes(), " and ",
              target.sizes());
  namespace F = torch::nn::functional;
  auto options = F::NormalizeFuncOptions().dim(-1);
  auto cos = (F::normalize(branch, options) * F::normalize(target, options)).sum(-1);
  return (2 - 2 * cos).mean();
}

PretrainLosses pretrain_loss(const PretrainLossInputs& in, const PretrainLossOptions& options) {
  TORCH_CHECK(in.video.defined() && in.text.defined(), "pretrain_loss: expected video and text embeddings");
  TORCH_CHECK(in.mbta_branch.defined() == in.mbta_target.defined(),
              "pretrain_loss: expected both MBTA sides or neither");
  PretrainLosses out;
  out.vtc = options.vtc_weight * info_nce(in.video, in.text, options.logit_scale).total;
  out.total = out.vtc;
  if (in.mbca_video.defined()) {
    out.mbca = options.mbca_weight * info_nce(in.mbca_video, in.text, options.logit_scale).total;
    out.total = out.total + out.mbca;
  }
  if (in.mbta_branch.defined()) {
    out.mbta = options.mbta_weight * token_alignment_loss(in.mbta_branch, in.mbta_target);
    out.total = out.total + out.mbta;
  }
  return out;
}

}  // namespace btadapter::loss
