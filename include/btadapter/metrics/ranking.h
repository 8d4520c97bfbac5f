#pragma once
/// Ranks of ground-truth candidates in score matrices, with exact ties handled on purpose, and the
/// R@K / median / mean summary of such ranks. Shared by retrieval (metrics/retrieval_metrics.h) and
/// recognition (metrics/recognition_metrics.h).
///
/// Rank definition (1-based). For one query with candidate scores s[0..C) and a set G of correct
/// candidates, let m = max_{c in G} s[c] (the best-scored correct candidate). Then
///   optimistic:  rank = 1 + #{c not in G : s[c] >  m}
///   pessimistic: rank = 1 + #{c not in G : s[c] >= m}
/// i.e. candidates scoring strictly higher always come first, and wrong candidates tied exactly with the
/// best correct one are placed before it (pessimistic) or after it (optimistic). With one correct
/// candidate per query (the usual case) pessimistic rank = #{c : s[c] >= s[target]}. Without exact ties
/// both modes agree. Pessimistic is the default everywhere: a degenerate model that scores every
/// candidate the same gets the worst rank, not the best.
///
/// Thread safety: free functions without shared state.

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace btadapter::eval {

/// How exact score ties between the correct candidate and wrong ones are resolved.
enum class TieMode {
  kPessimistic,  ///< tied wrong candidates rank before the correct one (default)
  kOptimistic,   ///< tied wrong candidates rank after the correct one
};

/// "pessimistic" / "optimistic".
std::string to_string(TieMode mode);
/// Parses "pessimistic" / "optimistic"; throws naming the accepted values otherwise.
TieMode tie_mode_from_string(const std::string& name);

/// Rank of each row's target column.
/// scores: [Q, C] float32 or float64, finite (a NaN or inf throws naming its row and column).
/// targets: [Q] int64 in [0, C).
/// Returns [Q] int64 ranks in [1, C] on the CPU. Works on any device; rows are processed in blocks so
/// temporary memory stays bounded for large Q x C.
torch::Tensor target_ranks(const torch::Tensor& scores, const torch::Tensor& targets,
                           TieMode ties = TieMode::kPessimistic);

/// Checks that every score is finite; throws "expected finite <what>, got <value> at row r, column c".
void check_finite_scores(const torch::Tensor& scores, const std::string& what);

/// R@K, median and mean of a set of 1-based ranks.
struct RankSummary {
  int64_t num_queries = 0;            ///< how many ranks were summarised
  std::map<int64_t, double> recall;   ///< K -> percentage of ranks <= K (0..100)
  double median_rank = 0;             ///< median (mean of the two middle values for an even count)
  double mean_rank = 0;               ///< arithmetic mean

  /// R@K in percent; throws when K was not requested.
  double recall_at(int64_t k) const;
};

/// The default recall cut-offs, {1, 5, 10}.
std::vector<int64_t> default_recall_ks();

/// Summarises 1-based ranks ([Q] int64, Q >= 1, every rank >= 1) at the cut-offs `ks` (each >= 1).
/// Arithmetic follows numpy exactly: R@K = count / Q * 100, median = numpy.median(rank - 1) + 1,
/// mean = numpy.mean(rank - 1) + 1 (float64), so the official metric is reproduced bit for bit.
RankSummary summarize_ranks(const torch::Tensor& ranks, const std::vector<int64_t>& ks = default_recall_ks());

}  // namespace btadapter::eval
