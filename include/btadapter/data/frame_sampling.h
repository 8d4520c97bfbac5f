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

#include "btadapter/config/enum_names.h"
#include "btadapter/data/random.h"

#include <cstdint>
#include <vector>

namespace btadapter::data {

/// Which frames a clip takes.
enum class FrameSampling {
  kUniform,  ///< the official UniformSample above (random per segment in training, fixed in evaluation)
  kStart,    ///< the first clip_len frames, train and test alike (image-style stages that should see
             ///< where a motion starts, not an arbitrary moment of it)
};

/// kStart indices: 0, 1, ..., clip_len - 1, the last frame repeated for short videos.
std::vector<int64_t> start_sample(int64_t num_frames, int64_t clip_len);

/// Fixed test-time indices. Throws unless num_frames >= 1 and clip_len >= 1.
std::vector<int64_t> uniform_sample_test(int64_t num_frames, int64_t clip_len);

/// Training indices: one uniformly random frame per segment (neighbouring segments share a bound).
std::vector<int64_t> uniform_sample_train(int64_t num_frames, int64_t clip_len, DataRng& rng);

/// The inclusive [start, end] bounds of each training segment (for logs and tests).
std::vector<std::pair<int64_t, int64_t>> uniform_sample_train_bounds(int64_t num_frames, int64_t clip_len);

}  // namespace btadapter::data

namespace btadapter {

template <>
struct EnumNames<data::FrameSampling> {
  static constexpr const char* kWhat = "frame sampling";
  static constexpr std::array<std::pair<data::FrameSampling, const char*>, 2> kNames{{
      {data::FrameSampling::kUniform, "uniform"},
      {data::FrameSampling::kStart, "start"}}};
};

}  // namespace btadapter
