#pragma once
// Private to src/eval: the ranking kernel without input validation, for callers that validated once.

#include <torch/types.h>

#include "btadapter/metrics/ranking.h"

namespace btadapter::eval::detail {

/// target_ranks() for inputs already known to be well-formed and finite.
torch::Tensor target_ranks_unchecked(const torch::Tensor& scores, const torch::Tensor& targets, TieMode ties);

}  // namespace btadapter::eval::detail
