#pragma once
/// Text-video retrieval metrics: R@K, median rank (MdR) and mean rank (MnR) for text-to-video (t2v) and
/// video-to-text (v2t), from a similarity matrix.
///
/// Usage:
///   auto sim = text_emb.matmul(video_emb.t());                        // [N_text, N_video]
///   auto m = compute_retrieval_metrics(sim);                          // diagonal ground truth
///   std::cout << format_retrieval_table(m);                           // eval/metrics_table.h
///   auto m2 = compute_retrieval_metrics(sim, text_to_video,           // general ground truth
///                                       RetrievalMetricsOptions().dual_softmax(true));
///
/// Inputs. `similarity` is [N_text, N_video], float32 or float64, finite, on any device; row t holds text
/// t's score against every video. `text_to_video` is [N_text] int64: the index of text t's video (each
/// text has exactly one correct video; a video may have several texts). Left out, the ground truth is the
/// diagonal (text i <-> video i; the matrix must then be square), as in the official metric.
///
/// Ranks (see metrics/ranking.h for the exact tie rule, pessimistic by default):
///  - t2v: for text t, the rank of video text_to_video[t] among all N_video videos.
///  - v2t: for video v, the rank of its best-ranked correct text among all N_text texts, i.e. with
///    m = max over v's texts of sim[t, v]: rank = 1 + #{wrong texts > m} (+ #{wrong texts == m} when
///    pessimistic). Every video must have at least one text (else disable it with video_to_text(false)).
///
/// Official compatibility (`official_compat(true)`, t2v only). Reproduces BT-Adapter's RetrievalMetric
/// (mmaction2 retrieval_metric.py, same as CLIP4Clip's compute_metrics) bit for bit on a given matrix:
///   sx = np.sort(-sim); d = -sim[i, gt[i]]; ind = np.where(sx - d[:, None] == 0)[1]
///   R@K = mean(ind < K) * 100, MdR = median(ind) + 1, MnR = mean(ind) + 1.
/// With exact ties a row contributes one entry per tied position (#greater, ..., #greater + #equal - 1),
/// so len(ind) > N_text and the denominator is len(ind), not N_text: do not use it to judge models with
/// ties. In this mode `ties` and `video_to_text` are ignored and v2t is absent.
///
/// Dual softmax (DSL, `dual_softmax(true)`, off by default as in BT-Adapter): the inference-time
/// re-weighting of CAMoE / InternVideo. t2v ranks use sim * softmax(sim * T, dim=0) (normalised over the
/// texts), v2t ranks use sim * softmax(sim * T, dim=1) (over the videos), T = dsl_temperature = 100.
/// It is computed in float64 (in float32, exp(-200) underflows to 0 and creates spurious ties at zero).
/// It uses the statistics of the whole query set, so results are labelled (RetrievalMetrics::protocol).
///
/// Thread safety: free functions without shared state.

#include "btadapter/metrics/ranking.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace btadapter::eval {

struct RetrievalMetricsOptions {
  /// Cut-offs K reported as R@K; default {1, 5, 10}.
  TORCH_ARG(std::vector<int64_t>, recall_ks) = default_recall_ks();
  /// Resolution of exact ties; default pessimistic.
  TORCH_ARG(TieMode, ties) = TieMode::kPessimistic;
  /// Compute video-to-text as well; default true.
  TORCH_ARG(bool, video_to_text) = true;
  /// Apply dual softmax before ranking; default false.
  TORCH_ARG(bool, dual_softmax) = false;
  /// Temperature T of the dual softmax (multiplies the similarities); default 100.
  TORCH_ARG(double, dsl_temperature) = 100.0;
  /// Reproduce the official t2v numbers, ties included (see above); default false.
  TORCH_ARG(bool, official_compat) = false;
};

/// Everything one evaluation produced.
struct RetrievalMetrics {
  RankSummary t2v;                 ///< text-to-video summary
  std::optional<RankSummary> v2t;  ///< video-to-text summary; absent when disabled or official_compat
  /// [N_text] int64 1-based t2v ranks (official_compat: [len(ind)] holding ind + 1).
  torch::Tensor t2v_ranks;
  /// [N_video] int64 1-based v2t ranks; undefined when v2t is absent.
  torch::Tensor v2t_ranks;
  int64_t num_texts = 0;
  int64_t num_videos = 0;
  TieMode ties = TieMode::kPessimistic;
  bool dual_softmax = false;
  double dsl_temperature = 100.0;
  bool official_compat = false;

  /// One line naming how the numbers were computed, e.g.
  /// "ties=pessimistic, dsl=off" or "official-compat t2v (ties inflate the count), dsl=on(T=100)".
  std::string protocol() const;
};

/// [n] int64 {0, 1, ..., n-1}: text i belongs to video i.
torch::Tensor diagonal_ground_truth(int64_t n);

/// Metrics with a general ground truth (see the file comment for shapes and rules).
RetrievalMetrics compute_retrieval_metrics(const torch::Tensor& similarity, const torch::Tensor& text_to_video,
                                           const RetrievalMetricsOptions& options = {});
/// Metrics with the diagonal ground truth; `similarity` must be square.
RetrievalMetrics compute_retrieval_metrics(const torch::Tensor& similarity,
                                           const RetrievalMetricsOptions& options = {});

/// sim * softmax(sim * temperature, dim) in float64 (shape of `similarity`, same device).
torch::Tensor dual_softmax(const torch::Tensor& similarity, int64_t dim, double temperature = 100.0);

/// [N_text] int64 1-based t2v ranks.
torch::Tensor text_to_video_ranks(const torch::Tensor& similarity, const torch::Tensor& text_to_video,
                                  TieMode ties = TieMode::kPessimistic);
/// [N_video] int64 1-based v2t ranks of each video's best-ranked text.
torch::Tensor video_to_text_ranks(const torch::Tensor& similarity, const torch::Tensor& text_to_video,
                                  TieMode ties = TieMode::kPessimistic);
/// The official metric's `ind` (0-based positions, length >= N_text, row-major order as np.where).
torch::Tensor official_t2v_indices(const torch::Tensor& similarity, const torch::Tensor& text_to_video);

}  // namespace btadapter::eval
