#include "btadapter/metrics/similarity.h"

#include <torch/torch.h>

namespace btadapter::eval {
namespace {

torch::Tensor l2_normalised_rows(const torch::Tensor& x, torch::ScalarType dtype, const char* what) {
  TORCH_CHECK(x.dim() == 2, "expected ", what, " of shape [N, D], got ", x.sizes());
  TORCH_CHECK(x.is_floating_point(), "expected floating-point ", what, ", got ", x.scalar_type());
  auto rows = x.to(dtype);
  return rows / rows.norm(2, 1, /*keepdim=*/true);
}

}  // namespace

torch::Tensor cosine_similarity_matrix(const torch::Tensor& queries, const torch::Tensor& candidates) {
  const auto dtype = queries.scalar_type() == torch::kDouble || candidates.scalar_type() == torch::kDouble
                         ? torch::kDouble
                         : torch::kFloat;
  auto q = l2_normalised_rows(queries, dtype, "query features");
  auto c = l2_normalised_rows(candidates, dtype, "candidate features");
  TORCH_CHECK(q.size(1) == c.size(1), "expected query and candidate features of the same width, got ", q.size(1),
              " and ", c.size(1));
  TORCH_CHECK(q.device() == c.device(), "expected query and candidate features on the same device, got ",
              q.device(), " and ", c.device());
  return q.matmul(c.t());
}

}  // namespace btadapter::eval
