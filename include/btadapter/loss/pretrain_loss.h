#pragma once
/// BT-Adapter's pretraining objective (paper 3.3; official `CLIPSimilarity_split` with `pretrain`):
///
///   total = w_vtc * VTC + w_mbca * MBCA + w_mbta * MBTA
///   VTC  = info_nce(video, text, logit_scale)                   (global video vs text embeddings)
///   MBCA = info_nce(mbca_video, text, logit_scale)              (mean projected branch patch tokens)
///   MBTA = mean over pairs of (2 - 2 cos(branch_k, target_k))   (= MSE of unit vectors)
///
/// The official weights are 1 : 0.1 : 0.1 with logit_scale 1/tau = 100 (the defaults here). Features
/// come from VideoTextModel (encode_video/encode_text, mbca_features, mbta_features); video, text and
/// mbca_video must already be gathered over ranks, MBTA stays local.

#include "btadapter/loss/info_nce.h"

namespace btadapter::loss {

/// Loss weights and the contrastive scale.
struct PretrainLossOptions {
  /// Weight of VTC; default 1.
  double vtc_weight = 1.0;
  /// Weight of MBCA; default 0.1 (official), the paper says 1.
  double mbca_weight = 0.1;
  /// Weight of MBTA; default 0.1 (official), the paper says 1.
  double mbta_weight = 0.1;
  /// 1 / tau; default 100 (tau 0.01, fixed).
  double logit_scale = 100.0;
};

/// Inputs; an undefined optional term is skipped (its output stays undefined and adds nothing).
struct PretrainLossInputs {
  torch::Tensor video;        ///< [N, E] video embeddings (gathered)
  torch::Tensor text;         ///< [N, E] text embeddings (gathered), row i pairs with video row i
  torch::Tensor mbca_video;   ///< [N, E] MBCA branch features (gathered); optional
  torch::Tensor mbta_branch;  ///< [B, n, E] MBTA branch side (local); optional, with mbta_target
  torch::Tensor mbta_target;  ///< [B, n, E] MBTA CLIP side (local)
};

/// Weighted terms (what enters `total`) and the total; scalar tensors.
struct PretrainLosses {
  torch::Tensor vtc;
  torch::Tensor mbca;
  torch::Tensor mbta;
  torch::Tensor total;
};

PretrainLosses pretrain_loss(const PretrainLossInputs& inputs, const PretrainLossOptions& options = {});

/// mean(2 - 2 cos(branch, target)) over all leading positions; branch and target [..., E], same shape.
torch::Tensor token_alignment_loss(const torch::Tensor& branch, const torch::Tensor& target);

}  // namespace btadapter::loss
