#include "btadapter/data/random.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <numeric>

namespace btadapter::data {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace

uint64_t DataRng::mix(std::initializer_list<uint64_t> values) {
  uint64_t h = 0x6A09E667F3BCC909ULL;
  for (uint64_t v : values) h = splitmix64(h ^ splitmix64(v));
  return h;
}

double DataRng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

int64_t DataRng::randint(int64_t lo, int64_t hi) {
  TORCH_CHECK(lo <= hi, "DataRng::randint: expected lo <= hi, got ", lo, " > ", hi);
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<int64_t>(engine_());  // the whole 64-bit range
  // Rejection sampling: drop the top partial block so every value is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t r = engine_();
  while (r >= limit) r = engine_();
  return lo + static_cast<int64_t>(r % span);
}

std::vector<int64_t> DataRng::permutation(int64_t n) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[randint(0, i)]);
  return order;
}

double round_half_even(double x) {
  const double r = std::round(x);  // half away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5) return 2.0 * std::round(x / 2.0);
  return r;
}

}  // namespace btadapter::data
