#include "btadapter/metrics/ranking.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "metrics/ranking_detail.h"

namespace btadapter::eval {
namespace {

// Rows per block so that one block's comparison temporaries hold about 16M elements.
int64_t rows_per_block(int64_t columns) {
  constexpr int64_t kBlockElements = int64_t{1} << 24;
  return std::max<int64_t>(1, kBlockElements / std::max<int64_t>(1, columns));
}

}  // namespace

std::string to_string(TieMode mode) {
  return mode == TieMode::kPessimistic ? "pessimistic" : "optimistic";
}

TieMode tie_mode_from_string(const std::string& name) {
  if (name == "pessimistic") return TieMode::kPessimistic;
  TORCH_CHECK(name == "optimistic", "expected tie mode 'pessimistic' or 'optimistic', got '", name, "'");
  return TieMode::kOptimistic;
}

void check_finite_scores(const torch::Tensor& scores, const std::string& what) {
  if (scores.numel() == 0) return;
  // One reduction pass in the common case: min and max propagate NaN and show +-inf.
  auto [lo, hi] = torch::aminmax(scores);
  if (std::isfinite(lo.item<double>()) && std::isfinite(hi.item<double>())) return;
  auto where = torch::logical_not(torch::isfinite(scores)).nonzero()[0].to(torch::kCPU);
  const int64_t row = where[0].item<int64_t>(), column = where[1].item<int64_t>();
  const double value = scores.index({row, column}).item<double>();
  TORCH_CHECK(false, "expected finite ", what, ", got ", std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf"),
              " at row ", row, ", column ", column);
}

torch::Tensor target_ranks(const torch::Tensor& scores, const torch::Tensor& targets, TieMode ties) {
  TORCH_CHECK(scores.dim() == 2, "expected scores of shape [Q, C], got ", scores.sizes());
  TORCH_CHECK(scores.scalar_type() == torch::kFloat || scores.scalar_type() == torch::kDouble,
              "expected float32 or float64 scores, got ", scores.scalar_type());
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == scores.size(0),
              "expected targets of shape [", scores.size(0), "], got ", targets.sizes());
  TORCH_CHECK(targets.scalar_type() == torch::kLong, "expected int64 targets, got ", targets.scalar_type());
  if (targets.numel() > 0) {
    auto lo = targets.min().item<int64_t>();
    auto hi = targets.max().item<int64_t>();
    TORCH_CHECK(lo >= 0 && hi < scores.size(1), "expected targets in [0, ", scores.size(1), "), got values in [", lo,
                ", ", hi, "]");
  }
  check_finite_scores(scores, "scores");
  return detail::target_ranks_unchecked(scores, targets, ties);
}

torch::Tensor detail::target_ranks_unchecked(const torch::Tensor& scores, const torch::Tensor& targets, TieMode ties) {
  auto target_col = targets.to(scores.device()).unsqueeze(1);
  std::vector<torch::Tensor> parts;
  const int64_t step = rows_per_block(scores.size(1));
  for (int64_t begin = 0; begin < scores.size(0); begin += step) {
    const int64_t len = std::min(step, scores.size(0) - begin);
    auto block = scores.narrow(0, begin, len);
    auto own = block.gather(1, target_col.narrow(0, begin, len));
    // Pessimistic: every candidate >= the target (the target itself included) is at or before it.
    auto ahead = ties == TieMode::kPessimistic ? block.ge(own).sum(1) : block.gt(own).sum(1) + 1;
    parts.push_back(ahead.to(torch::kLong));
  }
  if (parts.empty()) return torch::empty({0}, torch::kLong);
  return torch::cat(parts).to(torch::kCPU);
}

double RankSummary::recall_at(int64_t k) const {
  auto it = recall.find(k);
  TORCH_CHECK(it != recall.end(), "expected R@", k, " to have been computed; requested cut-offs do not include it");
  return it->second;
}

std::vector<int64_t> default_recall_ks() { return {1, 5, 10}; }

RankSummary summarize_ranks(const torch::Tensor& ranks, const std::vector<int64_t>& ks) {
  TORCH_CHECK(ranks.dim() == 1 && ranks.numel() > 0, "expected a non-empty [Q] tensor of ranks, got shape ",
              ranks.sizes());
  TORCH_CHECK(ranks.scalar_type() == torch::kLong, "expected int64 ranks, got ", ranks.scalar_type());
  auto cpu = ranks.to(torch::kCPU).contiguous();
  std::vector<int64_t> zero_based(cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + cpu.numel());
  const auto n = static_cast<int64_t>(zero_based.size());
  int64_t sum = 0;
  for (auto& r : zero_based) {
    TORCH_CHECK(r >= 1, "expected ranks >= 1, got ", r);
    r -= 1;
    sum += r;
  }
  RankSummary out;
  out.num_queries = n;
  for (int64_t k : ks) {
    TORCH_CHECK(k >= 1, "expected recall cut-offs K >= 1, got ", k);
    auto hits = std::count_if(zero_based.begin(), zero_based.end(), [k](int64_t r) { return r < k; });
    out.recall[k] = static_cast<double>(hits) / static_cast<double>(n) * 100.0;
  }
  std::sort(zero_based.begin(), zero_based.end());
  const double median = n % 2 == 1 ? static_cast<double>(zero_based[n / 2])
                                   : (static_cast<double>(zero_based[n / 2 - 1]) +
                                      static_cast<double>(zero_based[n / 2])) / 2.0;
  out.median_rank = median + 1.0;
  out.mean_rank = static_cast<double>(sum) / static_cast<double>(n) + 1.0;
  return out;
}

}  // namespace btadapter::eval
