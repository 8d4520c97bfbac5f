#pragma once
/// Deterministic random numbers for the data pipeline.
///
/// Every random choice in data/ (train frame indices, crop boxes, shuffling, replacement samples) is
/// drawn from a DataRng seeded by mixing (seed, epoch, sample index, ...), so results do not depend on
/// which worker thread ran first. The engine is std::mt19937_64, whose raw output the C++ standard
/// fixes; the conversions to doubles and ranges are our own, because std::*_distribution differ between
/// standard libraries. So the same seed gives the same data on every platform.
///
/// Thread safety: a DataRng is not shared between threads; make one per task.

#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

namespace btadapter::data {

class DataRng {
 public:
  explicit DataRng(uint64_t seed) : engine_(seed) {}

  /// A well-mixed 64-bit key from several values (splitmix64 chained); use it to seed per-sample RNGs.
  static uint64_t mix(std::initializer_list<uint64_t> values);

  uint64_t next_u64() { return engine_(); }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [lo, hi], both ends included (like Python's random.randint); unbiased.
  int64_t randint(int64_t lo, int64_t hi);
  /// A uniformly random permutation of 0..n-1 (Fisher-Yates).
  std::vector<int64_t> permutation(int64_t n);

 private:
  std::mt19937_64 engine_;
};

/// Rounds half to even, like numpy.round / Python 3 round (2.5 -> 2, 3.5 -> 4, -0.5 -> -0).
double round_half_even(double x);

}  // namespace btadapter::data
