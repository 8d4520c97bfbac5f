// UniformSample parity: the test-mode table of reference.md 3.1 and the training bounds.
#include "btadapter/data/frame_sampling.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

using namespace btadapter::data;
using btadapter::testing::expect_error;
using Indices = std::vector<int64_t>;

TEST(FrameSampling, TestModeMatchesTheReferenceTable) {
  EXPECT_EQ(uniform_sample_test(300, 12), (Indices{12, 37, 62, 87, 112, 137, 162, 186, 211, 236, 261, 286}));
  EXPECT_EQ(uniform_sample_test(100, 8), (Indices{6, 18, 31, 43, 56, 68, 80, 93}));
  EXPECT_EQ(uniform_sample_test(5, 8), (Indices{0, 0, 1, 2, 2, 2, 3, 4}));
  EXPECT_EQ(uniform_sample_test(1, 12), Indices(12, 0));
}

TEST(FrameSampling, SixtyFourOfSixtyFourRepeats32AndNeverUses63) {
  // round-half-to-even: 63/64*32 = 31.5 -> 32 and 63/64*33 = 32.48 -> 32.
  Indices expected;
  for (int64_t i = 0; i <= 32; ++i) expected.push_back(i);
  for (int64_t i = 32; i <= 62; ++i) expected.push_back(i);
  EXPECT_EQ(uniform_sample_test(64, 64), expected);
}

TEST(FrameSampling, RoundHalfEvenLikeNumpy) {
  EXPECT_EQ(round_half_even(0.5), 0.0);
  EXPECT_EQ(round_half_even(1.5), 2.0);
  EXPECT_EQ(round_half_even(2.5), 2.0);
  EXPECT_EQ(round_half_even(3.5), 4.0);
  EXPECT_EQ(round_half_even(2.4999), 2.0);
  EXPECT_EQ(round_half_even(-1.5), -2.0);
}

TEST(FrameSampling, TrainBoundsMatchTheReference) {
  const std::vector<std::pair<int64_t, int64_t>> expected = {{0, 37},    {37, 75},   {75, 112},  {112, 150},
                                                             {150, 187}, {187, 224}, {224, 262}, {262, 299}};
  EXPECT_EQ(uniform_sample_train_bounds(300, 8), expected);
}

TEST(FrameSampling, TrainIndicesStayInTheirSegmentAndCoverBothEnds) {
  const auto bounds = uniform_sample_train_bounds(300, 8);
  std::vector<bool> hit_start(8), hit_end(8);
  DataRng rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    const Indices idx = uniform_sample_train(300, 8, rng);
    ASSERT_EQ(idx.size(), 8u);
    for (size_t i = 0; i < 8; ++i) {
      ASSERT_GE(idx[i], bounds[i].first);
      ASSERT_LE(idx[i], bounds[i].second);  // inclusive, like np.random.randint(start, end + 1)
      hit_start[i] = hit_start[i] || idx[i] == bounds[i].first;
      hit_end[i] = hit_end[i] || idx[i] == bounds[i].second;
    }
  }
  for (size_t i = 0; i < 8; ++i) EXPECT_TRUE(hit_start[i] && hit_end[i]) << "segment " << i;
}

TEST(FrameSampling, TrainIsDeterministicForASeedAndHandlesShortVideos) {
  DataRng a(42), b(42);
  EXPECT_EQ(uniform_sample_train(97, 12, a), uniform_sample_train(97, 12, b));
  DataRng rng(3);
  const Indices short_clip = uniform_sample_train(3, 8, rng);  // fewer frames than T: repeats, no loop
  EXPECT_TRUE(std::is_sorted(short_clip.begin(), short_clip.end()));
  EXPECT_GE(short_clip.front(), 0);
  EXPECT_LE(short_clip.back(), 2);
  EXPECT_EQ(uniform_sample_train(1, 4, rng), Indices(4, 0));
}

TEST(FrameSampling, RejectsEmptyVideos) {
  expect_error([&] { uniform_sample_test(0, 8); }, "at least 1 frame, got 0");
  DataRng rng(0);
  expect_error([&] { uniform_sample_train(10, 0, rng); }, "expected clip_len >= 1, got 0");
}

TEST(DataRngTest, RandintIsInclusiveAndPermutationIsOne) {
  DataRng rng(1);
  std::vector<int> counts(3);
  for (int i = 0; i < 3000; ++i) ++counts[static_cast<size_t>(rng.randint(4, 6) - 4)];
  for (int c : counts) EXPECT_GT(c, 800);
  auto perm = rng.permutation(50);
  std::sort(perm.begin(), perm.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(perm[static_cast<size_t>(i)], i);
  // The raw engine is fixed by the standard, so these values hold on every platform.
  DataRng fixed(5489);
  EXPECT_EQ(fixed.next_u64(), 14514284786278117030ULL);
}

TEST(FrameSampling, StartTakesTheFirstFramesAndRepeatsTheLastOfShortVideos) {
  EXPECT_EQ(start_sample(300, 1), (Indices{0}));
  EXPECT_EQ(start_sample(300, 4), (Indices{0, 1, 2, 3}));
  EXPECT_EQ(start_sample(3, 5), (Indices{0, 1, 2, 2, 2}));
  expect_error([] { start_sample(0, 4); }, "at least 1 frame, got 0");
}
