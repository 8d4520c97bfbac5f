#pragma once
/// All-gather with gradient: the contrastive losses (VTC, MBCA) compare every video of the global batch
/// with every caption, so each rank gathers the features of all ranks and its loss is the global loss.
///
/// Forward: local [n_r, ...] on rank r -> gathered [sum_r n_r, ...] in rank order. Batch sizes may
/// differ between ranks (a rank that skipped corrupt videos): sizes are exchanged first and the
/// tensors padded for the transfer. Every rank must call it, with the same trailing shape and dtype.
///
/// Backward, two semantics (`loss.gather` in the training config):
///   - kSum (default): the gradient of the gathered tensor is summed over ranks, then each rank keeps
///     the rows of its own features. Every rank computes the same global loss L, so rank r receives
///     world_size * dL/d(its rows); after the data-parallel gradient average (divide by world_size) the
///     update equals the single-process update on the global batch.
///   - kOfficial: each rank keeps its own rows of its own gradient only, like the official GatherLayer
///     (BT-Adapter, mmaction2). After averaging, the contrastive gradients are 1/world_size of the
///     global-batch gradient while per-rank losses (the masked distillation MBTA) are not: the official
///     recipe therefore reweights its contrastive losses by 1/(number of GPUs). With AdamW the overall
///     scale mostly cancels; the relative weight against MBTA does not.
///
/// A world of one returns `local` itself (identity, gradient unchanged).
///
/// Thread safety: the collectives follow ProcessGroup's rule (one issuing thread per group; backward on
/// that thread or the autograd engine's). The group must outlive the backward pass.

#include "btadapter/config/enum_names.h"
#include <torch/types.h>

#include <string>
#include <vector>

#include "btadapter/dist/process_group.h"

namespace btadapter::dist {

enum class GatherMode {
  kSum,       ///< gradient summed over ranks (matches single-process training on the global batch)
  kOfficial,  ///< own slice of own gradient (the official GatherLayer)
};

/// Every rank's tensor, indexed by rank, on every rank; the sizes along dim 0 may differ (the other
/// dims and the dtype must not). Not differentiable. A world of one returns {local}.
std::vector<torch::Tensor> all_gather_varying(const torch::Tensor& local, ProcessGroup& group);

/// Differentiable all-gather along dim 0 (see the file comment).
torch::Tensor gather_with_grad(const torch::Tensor& local, ProcessGroup& group,
                               GatherMode mode = GatherMode::kSum);

}  // namespace btadapter::dist

namespace btadapter {

template <>
struct EnumNames<dist::GatherMode> {
  static constexpr const char* kWhat = "gather mode";
  static constexpr std::array<std::pair<dist::GatherMode, const char*>, 2> kNames{{
      {dist::GatherMode::kSum, "sum"},
      {dist::GatherMode::kOfficial, "official"}}};
};

}  // namespace btadapter
