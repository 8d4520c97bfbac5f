#include "btadapter/model/position_embedding.h"

#include <torch/torch.h>

#include <cmath>

namespace btadapter {

torch::Tensor interpolate_position_embedding(const torch::Tensor& table, int64_t grid_h, int64_t grid_w) {
  TORCH_CHECK(table.dim() == 2 && table.size(0) >= 2, "position embedding: expected [1+g*g, W], got ",
              table.sizes());
  const auto grid = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(table.size(0) - 1))));
  TORCH_CHECK(grid * grid == table.size(0) - 1, "position embedding: expected 1 + a square number of rows, got ",
              table.size(0));
  TORCH_CHECK(grid_h > 0 && grid_w > 0, "position embedding: expected a positive target grid, got ", grid_h,
              "x", grid_w);
  if (grid_h == grid && grid_w == grid) return table;
  const int64_t width = table.size(1);
  auto patches = table.narrow(0, 1, grid * grid).t().reshape({1, width, grid, grid});
  namespace F = torch::nn::functional;
  auto resized = F::interpolate(patches, F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{grid_h, grid_w})
                                             .mode(torch::kBicubic)
                                             .align_corners(false));
  return torch::cat({table.narrow(0, 0, 1), resized.reshape({width, grid_h * grid_w}).t()}, 0);
}

}  // namespace btadapter
