#include "btadapter/data/frame_sampling.h"

#include <c10/util/Exception.h>

namespace btadapter::data {

namespace {
void check_sizes(int64_t num_frames, int64_t clip_len) {
  TORCH_CHECK(num_frames >= 1, "frame sampling: expected a video with at least 1 frame, got ", num_frames);
  TORCH_CHECK(clip_len >= 1, "frame sampling: expected clip_len >= 1, got ", clip_len);
}

double segment_size(int64_t num_frames, int64_t clip_len) {
  return static_cast<double>(num_frames - 1) / static_cast<double>(clip_len);
}
}  // namespace

std::vector<std::pair<int64_t, int64_t>> uniform_sample_train_bounds(int64_t num_frames, int64_t clip_len) {
  check_sizes(num_frames, clip_len);
  const double seg = segment_size(num_frames, clip_len);
  std::vector<std::pair<int64_t, int64_t>> bounds;
  bounds.reserve(static_cast<size_t>(clip_len));
  for (int64_t i = 0; i < clip_len; ++i) {
    bounds.emplace_back(static_cast<int64_t>(round_half_even(seg * static_cast<double>(i))),
                        static_cast<int64_t>(round_half_even(seg * static_cast<double>(i + 1))));
  }
  return bounds;
}

std::vector<int64_t> uniform_sample_train(int64_t num_frames, int64_t clip_len, DataRng& rng) {
  std::vector<int64_t> indices;
  indices.reserve(static_cast<size_t>(clip_len));
  for (const auto& [start, end] : uniform_sample_train_bounds(num_frames, clip_len)) {
    indices.push_back(rng.randint(start, end));
  }
  return indices;
}

std::vector<int64_t> uniform_sample_test(int64_t num_frames, int64_t clip_len) {
  check_sizes(num_frames, clip_len);
  const double seg = segment_size(num_frames, clip_len);
  // Python: int(duration * (k + 1)) with duration = seg / (num_clips + 1) and k = 0; int() truncates.
  const auto offset = static_cast<int64_t>(seg / 2.0);
  std::vector<int64_t> indices;
  indices.reserve(static_cast<size_t>(clip_len));
  for (int64_t i = 0; i < clip_len; ++i) {
    indices.push_back(static_cast<int64_t>(round_half_even(seg * static_cast<double>(i))) + offset);
  }
  return indices;
}

}  // namespace btadapter::data
