#pragma once
/// Frame sampling exactly as the official `UniformSample` (mmaction2 `loading.py`, num_clips = 1;
/// reference.md 3.1).
///
///   seg = (num_frames - 1) / clip_len                       (double)
///   train: index_i = randint(round(seg * i), round(seg * (i + 1)))   both ends included
///   test:  index_i = round(seg * i) + trunc(seg / 2)
///
/// `round` is round-half-to-even (numpy.round). Short videos (num_frames < clip_len) repeat frames and
/// never loop; a single image (num_frames == 1) gives all zeros. Examples (test mode):
///   N=300, T=12 -> 12 37 62 87 112 137 162 186 211 236 261 286
///   N=5,   T=8  -> 0 0 1 2 2 2 3 4
///
/// Thread safety: pure functions.

#include "btadapter/data/random.h"

#include <cstdint>
#include <vector>

namespace btadapter::data {

/// Fixed test-time indices. Throws unless num_frames >= 1 and clip_len >= 1.
std::vector<int64_t> uniform_sample_test(int64_t num_frames, int64_t clip_len);

/// Training indices: one uniformly random frame per segment (neighbouring segments share a bound).
std::vector<int64_t> uniform_sample_train(int64_t num_frames, int64_t clip_len, DataRng& rng);

/// The inclusive [start, end] bounds of each training segment (for logs and tests).
std::vector<std::pair<int64_t, int64_t>> uniform_sample_train_bounds(int64_t num_frames, int64_t clip_len);

}  // namespace btadapter::data
