#pragma once
/// Zero-shot recognition metrics from class scores: overall top-K accuracy (what the official
/// ZeroShotAccMetric reports as overall_acc1 / overall_acc5, there as fractions) and mean-class
/// accuracy (top-1 accuracy of each class present in the labels, averaged over those classes, as
/// mmaction's mean_class_accuracy). All accuracies here are percentages (0..100).
///
/// A sample is correct at K when the rank of its label (metrics/ranking.h) is <= K. Ties are pessimistic by
/// default: a wrong class scoring exactly the same as the label ranks before it, so a constant score
/// matrix gives top-1 accuracy 0 (optimistic: 100).
///
/// Usage:
///   auto scores = video_emb.matmul(class_text_emb.t());   // [N, C]
///   auto m = compute_recognition_metrics(scores, labels);  // labels: [N] int64 in [0, C)
///   m.accuracy_at(1), m.accuracy_at(5), m.mean_class_accuracy
///
/// Thread safety: free functions without shared state.

#include "btadapter/metrics/ranking.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <vector>

namespace btadapter::eval {

struct RecognitionMetricsOptions {
  /// Cut-offs K reported as top-K accuracy; default {1, 5}.
  TORCH_ARG(std::vector<int64_t>, top_ks) = std::vector<int64_t>{1, 5};
  /// Resolution of exact ties; default pessimistic.
  TORCH_ARG(TieMode, ties) = TieMode::kPessimistic;
};

struct RecognitionMetrics {
  int64_t num_samples = 0;
  int64_t num_classes = 0;          ///< C, the number of score columns
  int64_t num_classes_present = 0;  ///< classes with at least one sample (the mean-class denominator)
  std::map<int64_t, double> top_k;  ///< K -> top-K accuracy in percent
  double mean_class_accuracy = 0;   ///< mean over present classes of their top-1 accuracy, percent
  torch::Tensor ranks;              ///< [N] int64 1-based rank of each sample's label
  TieMode ties = TieMode::kPessimistic;

  /// Top-K accuracy in percent; throws when K was not requested.
  double accuracy_at(int64_t k) const;
};

/// scores: [N, C] float32/float64, finite, any device; labels: [N] int64 in [0, C); N >= 1.
RecognitionMetrics compute_recognition_metrics(const torch::Tensor& scores, const torch::Tensor& labels,
                                               const RecognitionMetricsOptions& options = {});

}  // namespace btadapter::eval
