#include <gtest/gtest.h>

#include "btadapter/train/text_feature_cache.h"
#include "support/test_support.h"

using namespace btadapter::train;
using btadapter::testing::expect_error;

namespace {

// A stand-in text encoder: the feature of caption c is [len(c), first char], 2 floats = 8 bytes.
torch::Tensor feature_of(const std::string& caption) {
  return torch::tensor({static_cast<float>(caption.size()), static_cast<float>(caption[0])});
}

}  // namespace

TEST(TextFeatureCache, LeastRecentlyUsedIsEvictedFirst) {
  TextFeatureCache cache(TextFeatureCacheOptions().max_bytes(24));  // room for three features
  cache.put("a", feature_of("a"));
  cache.put("bb", feature_of("bb"));
  cache.put("ccc", feature_of("ccc"));
  ASSERT_TRUE(cache.get("a").has_value());  // "a" becomes the most recent; "bb" is now the oldest
  cache.put("dddd", feature_of("dddd"));
  EXPECT_FALSE(cache.get("bb").has_value());
  EXPECT_TRUE(cache.get("a").has_value());
  EXPECT_TRUE(cache.get("ccc").has_value());
  EXPECT_TRUE(torch::equal(*cache.get("dddd"), feature_of("dddd")));
  auto stats = cache.stats();
  EXPECT_EQ(stats.entries, 3);
  EXPECT_EQ(stats.bytes, 24);
  EXPECT_EQ(stats.evictions, 1);
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.hits, 4);
}

TEST(TextFeatureCache, EntryBoundAndOversizedEntries) {
  TextFeatureCache cache(TextFeatureCacheOptions().max_bytes(1000).max_entries(2));
  cache.put("x", feature_of("x"));
  cache.put("y", feature_of("y"));
  cache.put("z", feature_of("z"));
  EXPECT_EQ(cache.stats().entries, 2);
  EXPECT_FALSE(cache.get("x").has_value());
  cache.put("big", torch::zeros({1000}));  // 4000 bytes > bound: not stored, nothing evicted
  EXPECT_FALSE(cache.get("big").has_value());
  EXPECT_EQ(cache.stats().entries, 2);
  cache.put("y", torch::ones({3}));  // replacing keeps the byte count right
  EXPECT_EQ(cache.stats().bytes, 8 + 12);
  cache.clear();
  EXPECT_EQ(cache.stats().entries, 0);
  EXPECT_EQ(cache.stats().bytes, 0);
}

TEST(TextFeatureCache, GetOrComputeEncodesEachDistinctMissOnce) {
  TextFeatureCache cache;
  cache.put("cat", feature_of("cat"));
  std::vector<std::vector<int64_t>> calls;
  auto encode = [&](const std::vector<int64_t>& rows) {
    calls.push_back(rows);
    static const std::vector<std::string> batch{"dog", "cat", "dog", "a bird"};
    std::vector<torch::Tensor> out;
    for (auto r : rows) out.push_back(feature_of(batch[r]));
    return torch::stack(out);
  };
  std::vector<std::string> batch{"dog", "cat", "dog", "a bird"};
  auto features = cache.get_or_compute(batch, encode);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], (std::vector<int64_t>{0, 3}));
  ASSERT_EQ(features.sizes(), (std::vector<int64_t>{4, 2}));
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_TRUE(torch::equal(features[i], feature_of(batch[i]))) << i;
  // Everything is cached now: no second encode call.
  auto again = cache.get_or_compute(batch, encode);
  EXPECT_EQ(calls.size(), 1u);
  EXPECT_TRUE(torch::equal(again, features));
  expect_error([&] { cache.get_or_compute({"new"}, [](const std::vector<int64_t>&) {
                       return torch::zeros({2, 2});
                     }); },
               "TextFeatureCache: encode returned [2, 2] for 1 captions");
}
