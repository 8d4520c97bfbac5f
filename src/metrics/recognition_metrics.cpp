#include "btadapter/metrics/recognition_metrics.h"

#include <torch/torch.h>

namespace btadapter::eval {

double RecognitionMetrics::accuracy_at(int64_t k) const {
  auto it = top_k.find(k);
  TORCH_CHECK(it != top_k.end(), "expected top-", k, " accuracy to have been computed; requested cut-offs do not include it");
  return it->second;
}

RecognitionMetrics compute_recognition_metrics(const torch::Tensor& scores, const torch::Tensor& labels,
                                               const RecognitionMetricsOptions& options) {
  TORCH_CHECK(scores.dim() == 2 && scores.size(0) > 0 && scores.size(1) > 0,
              "expected non-empty class scores of shape [N, C], got ", scores.sizes());
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == scores.size(0), "expected labels of shape [",
              scores.size(0), "] (one class per sample), got ", labels.sizes());
  TORCH_CHECK(labels.scalar_type() == torch::kLong, "expected int64 labels, got ", labels.scalar_type());
  const auto lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  TORCH_CHECK(lo >= 0 && hi < scores.size(1), "expected labels in [0, ", scores.size(1), ") (class indices), got values in [",
              lo, ", ", hi, "]");
  RecognitionMetrics out;
  out.num_samples = scores.size(0);
  out.num_classes = scores.size(1);
  out.ties = options.ties();
  out.ranks = target_ranks(scores, labels, options.ties());
  out.top_k = summarize_ranks(out.ranks, options.top_ks()).recall;

  auto cpu_labels = labels.to(torch::kCPU);
  auto per_class = torch::bincount(cpu_labels, {}, out.num_classes).to(torch::kDouble);
  auto hits = torch::bincount(cpu_labels, out.ranks.eq(1).to(torch::kDouble), out.num_classes);
  auto present = per_class.gt(0);
  out.num_classes_present = present.sum().item<int64_t>();
  out.mean_class_accuracy =
      (hits.masked_select(present) / per_class.masked_select(present)).mean().item<double>() * 100.0;
  return out;
}

}  // namespace btadapter::eval
