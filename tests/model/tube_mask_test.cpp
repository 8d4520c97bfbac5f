// Tube-mask invariants for both layouts.
#include <gtest/gtest.h>

#include "btadapter/model/tube_mask.h"
#include "support/test_support.h"

#include <ATen/CPUGeneratorImpl.h>

#include <set>

using namespace btadapter;
using btadapter::testing::expect_error;

TEST(TubeMaskGenerator, DropsFloorOfRatioTimesPatchesPerVideo) {
  EXPECT_EQ(TubeMaskGenerator(256, 0.7).dropped_per_frame(), 179);  // the official int(0.7 * 256)
  EXPECT_EQ(TubeMaskGenerator(16, 0.7).dropped_per_frame(), 11);
  EXPECT_EQ(TubeMaskGenerator(16, 0.0).dropped_per_frame(), 0);
  auto gen = at::detail::createCPUGenerator(7);
  auto mask = TubeMaskGenerator(16, 0.7).generate(5, 3, gen);
  EXPECT_EQ(mask.pattern().sizes(), (std::vector<int64_t>{5, 16}));
  EXPECT_TRUE(mask.pattern().sum(1).eq(11).all().item<bool>());
  EXPECT_EQ(mask.kept_per_frame(), 5);
  EXPECT_EQ(mask.kept_tokens(), 15);
  // Different videos get different patterns (5 draws of C(16,11) = 4368 patterns).
  EXPECT_FALSE(mask.pattern()[0].equal(mask.pattern()[1]) && mask.pattern()[1].equal(mask.pattern()[2]));
}

TEST(TubeMaskGenerator, IsReproducibleFromTheSeed) {
  auto a = TubeMaskGenerator(49, 0.5).generate(4, 2, at::detail::createCPUGenerator(11));
  auto b = TubeMaskGenerator(49, 0.5).generate(4, 2, at::detail::createCPUGenerator(11));
  auto c = TubeMaskGenerator(49, 0.5).generate(4, 2, at::detail::createCPUGenerator(12));
  EXPECT_TRUE(a.pattern().equal(b.pattern()));
  EXPECT_FALSE(a.pattern().equal(c.pattern()));
}

TEST(TubeMask, TubeLayoutKeepsTheSamePositionsInEveryFrameAndAlignsTargets) {
  const int64_t p = 9, t = 4;
  auto mask = TubeMaskGenerator(p, 0.6, MaskLayout::kTube).generate(3, t, at::detail::createCPUGenerator(3));
  auto branch = mask.branch_index(), target = mask.target_index();
  ASSERT_EQ(branch.sizes(), (std::vector<int64_t>{3, mask.kept_tokens()}));
  for (int64_t b = 0; b < 3; ++b) {
    std::set<int64_t> kept;
    for (int64_t p_ = 0; p_ < p; ++p_) {
      if (!mask.pattern()[b][p_].item<bool>()) kept.insert(p_);
    }
    std::vector<std::set<int64_t>> per_frame(t);
    for (int64_t k = 0; k < branch.size(1); ++k) {
      const int64_t i = branch[b][k].item<int64_t>();  // (l t): i = pos * T + frame
      const int64_t pos = i / t, frame = i % t;
      per_frame[frame].insert(pos);
      // MBTA target: the CLIP token of the same frame and position, (t l) index frame * P + pos.
      EXPECT_EQ(target[b][k].item<int64_t>(), frame * p + pos);
    }
    for (const auto& positions : per_frame) EXPECT_EQ(positions, kept);  // a tube: the same set per frame
  }
}

TEST(TubeMask, OfficialLayoutAppliesTheTiledFlatMaskToBranchOrder) {
  const int64_t p = 6, t = 3;
  auto pattern = torch::tensor({0, 1, 1, 0, 1, 0}, torch::kBool).view({1, p});
  TubeMask mask(pattern, t, MaskLayout::kOfficial);
  auto flat = mask.official_flat();  // (t l): flat[t*P + p] = pattern[p]
  ASSERT_EQ(flat.sizes(), (std::vector<int64_t>{1, t * p}));
  // The official code keeps branch token i iff flat[i] == 0, with i an (l t) index.
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < t * p; ++i) {
    if (!flat[0][i].item<bool>()) expected.push_back(i);
  }
  auto branch = mask.branch_index();
  ASSERT_EQ(branch.size(1), static_cast<int64_t>(expected.size()));
  for (size_t k = 0; k < expected.size(); ++k) EXPECT_EQ(branch[0][k].item<int64_t>(), expected[k]);
  // ... and pairs the k-th with the k-th kept CLIP token in (t l) order: the same flat indices.
  EXPECT_TRUE(mask.target_index().equal(branch));
  // Kept count per frame is still P - M in CLIP order.
  EXPECT_EQ(mask.kept_tokens(), 3 * t);
}

TEST(TubeMask, LayoutsAgreeForOneFrame) {
  auto pattern = TubeMaskGenerator(16, 0.7).generate(2, 1, at::detail::createCPUGenerator(5)).pattern();
  TubeMask tube(pattern, 1, MaskLayout::kTube), official(pattern, 1, MaskLayout::kOfficial);
  EXPECT_TRUE(tube.branch_index().equal(official.branch_index()));
  EXPECT_TRUE(tube.target_index().equal(official.target_index()));
}

TEST(TubeMask, FromOfficialFlatRecoversThePattern) {
  auto mask = TubeMaskGenerator(8, 0.5).generate(2, 3, at::detail::createCPUGenerator(9));
  auto back = TubeMask::from_official_flat(mask.official_flat().to(torch::kLong), 3, MaskLayout::kTube);
  EXPECT_TRUE(back.pattern().equal(mask.pattern()));
  auto broken = mask.official_flat().clone();
  broken[0][8] = !broken[0][8].item<bool>();  // frame 1 differs from frame 0
  expect_error([&] { TubeMask::from_official_flat(broken, 3, MaskLayout::kTube); }, "repeat one spatial pattern");
}

TEST(TubeMask, RejectsRowsWithDifferentDropCounts) {
  auto pattern = torch::tensor({1, 0, 0, 1, 1, 0}, torch::kBool).view({2, 3});
  expect_error([&] { TubeMask(pattern, 2, MaskLayout::kTube); }, "same number of positions");
}
