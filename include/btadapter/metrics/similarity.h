#pragma once
/// The similarity matrix fed to the metrics, computed as the official evaluation does (BT-Adapter's
/// RetrievalMetric and ZeroShotAccMetric): each row divided by its L2 norm (no epsilon), then one matrix
/// product. A zero row therefore gives NaN, which the metrics reject naming the row.
///
/// Thread safety: a free function without shared state.

#include <torch/types.h>

namespace btadapter::eval {

/// queries: [Nq, D], candidates: [Nc, D], float32/float16/bfloat16/float64, same device.
/// Returns [Nq, Nc] = normalize(queries) @ normalize(candidates)^T, in float32 (float64 when either input
/// is float64). For retrieval pass (text_features, video_features) to get [N_text, N_video]; for
/// recognition (video_features, class_text_features) to get [N, C].
torch::Tensor cosine_similarity_matrix(const torch::Tensor& queries, const torch::Tensor& candidates);

}  // namespace btadapter::eval
