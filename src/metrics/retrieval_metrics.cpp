#include "btadapter/metrics/retrieval_metrics.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <sstream>
#include <vector>

#include "metrics/ranking_detail.h"

namespace btadapter::eval {
namespace {

// Texts per block so that one block's [rows, N_video] temporaries hold about 16M elements.
int64_t text_rows_per_block(int64_t videos) {
  constexpr int64_t kBlockElements = int64_t{1} << 24;
  return std::max<int64_t>(1, kBlockElements / std::max<int64_t>(1, videos));
}

void check_similarity(const torch::Tensor& sim) {
  TORCH_CHECK(sim.dim() == 2, "expected a similarity matrix of shape [N_text, N_video], got ", sim.sizes());
  TORCH_CHECK(sim.scalar_type() == torch::kFloat || sim.scalar_type() == torch::kDouble,
              "expected a float32 or float64 similarity matrix, got ", sim.scalar_type());
  TORCH_CHECK(sim.size(0) > 0 && sim.size(1) > 0, "expected a non-empty similarity matrix, got ", sim.sizes());
  check_finite_scores(sim, "similarities");
}

void check_ground_truth(const torch::Tensor& text_to_video, const torch::Tensor& sim) {
  TORCH_CHECK(text_to_video.dim() == 1 && text_to_video.size(0) == sim.size(0),
              "expected text_to_video of shape [", sim.size(0), "] (one video per text), got ",
              text_to_video.sizes());
  TORCH_CHECK(text_to_video.scalar_type() == torch::kLong, "expected int64 text_to_video, got ",
              text_to_video.scalar_type());
  auto lo = text_to_video.min().item<int64_t>();
  auto hi = text_to_video.max().item<int64_t>();
  TORCH_CHECK(lo >= 0 && hi < sim.size(1), "expected text_to_video values in [0, ", sim.size(1),
              ") (video indices), got values in [", lo, ", ", hi, "]");
}

void check_every_video_has_text(const torch::Tensor& gt, int64_t videos) {
  auto empty = torch::bincount(gt, {}, videos).eq(0).nonzero();
  TORCH_CHECK(empty.size(0) == 0, "expected every video to have at least one text for video-to-text ranks, got ",
              empty.size(0), " without any (first: video ", empty.size(0) ? empty[0][0].item<int64_t>() : -1,
              "); disable video_to_text or drop those videos");
}

// For each video, the highest score any of its own texts gives it ([N_video], on the CPU): one pass
// over the N_text own scores.
torch::Tensor best_correct_scores(const torch::Tensor& own, const torch::Tensor& gt, int64_t videos) {
  auto own_cpu = own.to(torch::kCPU, torch::kDouble).contiguous();
  auto gt_cpu = gt.to(torch::kCPU).contiguous();
  std::vector<double> best(videos, -std::numeric_limits<double>::infinity());
  for (int64_t t = 0; t < own_cpu.numel(); ++t) {
    double& b = best[gt_cpu.data_ptr<int64_t>()[t]];
    b = std::max(b, own_cpu.data_ptr<double>()[t]);
  }
  return torch::tensor(best, torch::kDouble);
}

torch::Tensor video_to_text_ranks_unchecked(const torch::Tensor& similarity, const torch::Tensor& text_to_video,
                                            TieMode ties) {
  const int64_t videos = similarity.size(1);
  auto gt = text_to_video.to(similarity.device());
  check_every_video_has_text(gt, videos);
  auto own = similarity.gather(1, gt.unsqueeze(1)).squeeze(1);  // each text's score for its own video
  // Scores are float32 or float64, so the float64 maximum converts back exactly.
  auto best = best_correct_scores(own, gt, videos).to(similarity.device(), similarity.scalar_type());
  // Correct texts that tie with their video's best score are not "wrong candidates".
  auto correct_at_best =
      torch::zeros({videos}, gt.options()).scatter_add_(0, gt, own.eq(best.index_select(0, gt)).to(torch::kLong));

  auto greater = torch::zeros({videos}, gt.options());
  auto equal = torch::zeros({videos}, gt.options());
  const int64_t step = text_rows_per_block(videos);
  auto best_row = best.unsqueeze(0);
  for (int64_t begin = 0; begin < similarity.size(0); begin += step) {
    auto block = similarity.narrow(0, begin, std::min(step, similarity.size(0) - begin));
    greater += block.gt(best_row).sum(0);
    if (ties == TieMode::kPessimistic) equal += block.eq(best_row).sum(0);
  }
  auto ranks = greater + 1;
  if (ties == TieMode::kPessimistic) ranks += equal - correct_at_best;
  return ranks.to(torch::kCPU);
}

torch::Tensor official_t2v_indices_unchecked(const torch::Tensor& similarity, const torch::Tensor& text_to_video) {
  // In sort(-sim) the positions equal to -sim[i, gt] are #greater ... #greater + #equal - 1 (a - b == 0
  // iff a == b for finite IEEE values), which is what np.where returns row by row.
  auto first = detail::target_ranks_unchecked(similarity, text_to_video, TieMode::kOptimistic);  // 1 + #greater
  auto last = detail::target_ranks_unchecked(similarity, text_to_video, TieMode::kPessimistic);  // #greater + #equal
  std::vector<int64_t> ind;
  ind.reserve(similarity.size(0));
  for (int64_t i = 0; i < similarity.size(0); ++i) {
    for (int64_t r = first.data_ptr<int64_t>()[i]; r <= last.data_ptr<int64_t>()[i]; ++r) ind.push_back(r - 1);
  }
  return torch::tensor(ind, torch::kLong);
}

// The DSL matrix, checked: sim * 100 can overflow for absurd inputs, and NaN would rank silently.
torch::Tensor checked_dual_softmax(const torch::Tensor& similarity, int64_t dim, double temperature) {
  auto weighted = dual_softmax(similarity, dim, temperature);
  check_finite_scores(weighted, "dual-softmax similarities");
  return weighted;
}

}  // namespace

std::string RetrievalMetrics::protocol() const {
  std::ostringstream out;
  if (official_compat) {
    out << "official-compat t2v (ties inflate the count)";
  } else {
    out << (v2t ? "t2v+v2t" : "t2v") << ", ties=" << to_string(ties);
  }
  out << ", dsl=";
  if (dual_softmax) out << "on(T=" << dsl_temperature << ")";
  else out << "off";
  return out.str();
}

torch::Tensor diagonal_ground_truth(int64_t n) {
  TORCH_CHECK(n >= 0, "expected a non-negative size, got ", n);
  return torch::arange(n, torch::kLong);
}

torch::Tensor dual_softmax(const torch::Tensor& similarity, int64_t dim, double temperature) {
  TORCH_CHECK(similarity.dim() == 2, "expected a similarity matrix of shape [N_text, N_video], got ",
              similarity.sizes());
  auto sim = similarity.to(torch::kDouble);
  return sim * torch::softmax(sim * temperature, dim);
}

torch::Tensor text_to_video_ranks(const torch::Tensor& similarity, const torch::Tensor& text_to_video,
                                  TieMode ties) {
  check_similarity(similarity);
  check_ground_truth(text_to_video, similarity);
  return detail::target_ranks_unchecked(similarity, text_to_video, ties);
}

torch::Tensor video_to_text_ranks(const torch::Tensor& similarity, const torch::Tensor& text_to_video,
                                  TieMode ties) {
  check_similarity(similarity);
  check_ground_truth(text_to_video, similarity);
  return video_to_text_ranks_unchecked(similarity, text_to_video, ties);
}

torch::Tensor official_t2v_indices(const torch::Tensor& similarity, const torch::Tensor& text_to_video) {
  check_similarity(similarity);
  check_ground_truth(text_to_video, similarity);
  return official_t2v_indices_unchecked(similarity, text_to_video);
}

RetrievalMetrics compute_retrieval_metrics(const torch::Tensor& similarity, const torch::Tensor& text_to_video,
                                           const RetrievalMetricsOptions& options) {
  check_similarity(similarity);
  check_ground_truth(text_to_video, similarity);
  RetrievalMetrics out;
  out.num_texts = similarity.size(0);
  out.num_videos = similarity.size(1);
  out.ties = options.ties();
  out.dual_softmax = options.dual_softmax();
  out.dsl_temperature = options.dsl_temperature();
  out.official_compat = options.official_compat();

  const double temperature = options.dsl_temperature();
  auto t2v_sim = options.dual_softmax() ? checked_dual_softmax(similarity, 0, temperature) : similarity;
  if (options.official_compat()) {
    out.t2v_ranks = official_t2v_indices_unchecked(t2v_sim, text_to_video) + 1;
    out.t2v = summarize_ranks(out.t2v_ranks, options.recall_ks());
    return out;
  }
  out.t2v_ranks = detail::target_ranks_unchecked(t2v_sim, text_to_video, options.ties());
  out.t2v = summarize_ranks(out.t2v_ranks, options.recall_ks());
  if (options.video_to_text()) {
    auto v2t_sim = options.dual_softmax() ? checked_dual_softmax(similarity, 1, temperature) : similarity;
    out.v2t_ranks = video_to_text_ranks_unchecked(v2t_sim, text_to_video, options.ties());
    out.v2t = summarize_ranks(out.v2t_ranks, options.recall_ks());
  }
  return out;
}

RetrievalMetrics compute_retrieval_metrics(const torch::Tensor& similarity, const RetrievalMetricsOptions& options) {
  TORCH_CHECK(similarity.dim() == 2 && similarity.size(0) == similarity.size(1),
              "expected a square similarity matrix for the diagonal ground truth (text i <-> video i), got ",
              similarity.sizes(), "; pass text_to_video for other layouts");
  return compute_retrieval_metrics(similarity, diagonal_ground_truth(similarity.size(0)), options);
}

}  // namespace btadapter::eval
