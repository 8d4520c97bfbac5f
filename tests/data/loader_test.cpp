// The parallel loader: deterministic order independent of threads, sharding, resume, bad videos under
// each policy, worker errors surfacing, and the serialised state.
#include "btadapter/data/loader.h"
#include "btadapter/data/sharding.h"
#include "btadapter/data/video_writer.h"

#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

using namespace btadapter::data;
using btadapter::testing::expect_error;
using btadapter::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kFrames = 4, kSize = 16;

// Video i is a constant grey of level 10 + 12 i (i < 21), so a batch item shows which video it came from.
int grey_of(int64_t i) { return static_cast<int>(10 + 12 * i); }

class LoaderTest : public ::testing::Test {
 protected:
  // n videos; the indices in `missing` name absent files and those in `corrupt` text files.
  std::shared_ptr<const VideoTextDataset> make_dataset(int64_t n, const std::set<int64_t>& missing = {},
                                                       const std::set<int64_t>& corrupt = {}, bool train = true) {
    Annotations a;
    a.path = "in-memory";
    a.format = "test";
    for (int64_t i = 0; i < n; ++i) {
      const fs::path path = dir_ / ("v" + std::to_string(i) + ".mp4");
      if (corrupt.count(i)) {
        std::ofstream(path) << "this is not a video";
      } else if (!missing.count(i) && !fs::exists(path)) {
        write_video(path.string(), torch::full({6, 24, 24, 3}, grey_of(i), torch::kUInt8));
      } else if (missing.count(i)) {
        fs::remove(path);
      }
      a.samples.push_back({path.string(), "caption " + std::to_string(i), -1, "id" + std::to_string(i), i + 1});
    }
    return std::make_shared<const VideoTextDataset>(a, ClipOptions(kFrames, kSize).train(train));
  }

  static std::vector<Batch> drain(VideoTextLoader& loader, int64_t max_batches = INT64_MAX) {
    std::vector<Batch> batches;
    while (static_cast<int64_t>(batches.size()) < max_batches) {
      auto b = loader.next();
      if (!b) break;
      batches.push_back(std::move(*b));
    }
    return batches;
  }

  static std::vector<int64_t> indices_of(const std::vector<Batch>& batches) {
    std::vector<int64_t> out;
    for (const auto& b : batches) {
      for (int64_t i = 0; i < b.indices.size(0); ++i) out.push_back(b.indices[i].item<int64_t>());
    }
    return out;
  }

  // Every item's pixels must be its video's grey, normalised, and its caption must match.
  static void expect_items_match(const Batch& b) {
    for (int64_t i = 0; i < b.indices.size(0); ++i) {
      const int64_t index = b.indices[i].item<int64_t>();
      EXPECT_EQ(b.captions[static_cast<size_t>(i)], "caption " + std::to_string(index));
      EXPECT_EQ(b.ids[static_cast<size_t>(i)], "id" + std::to_string(index));
      const auto raw = torch::full({kFrames, 3, kSize, kSize}, grey_of(index), torch::kUInt8);
      // H.264 (limited-range YUV) moves a grey by up to 5 levels, 0.08 after normalisation; a neighbour
      // video is 12 levels away.
      BT_EXPECT_CLOSE(b.video[i], normalize_clip(raw), 0.08, 0);
    }
  }

  TempDir dir_;
};

}  // namespace

TEST_F(LoaderTest, BatchesHoldNormalisedClipsCaptionsAndIds) {
  VideoTextLoader loader(make_dataset(6), LoaderOptions(3).num_workers(2).shuffle(false));
  auto batch = loader.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->video.sizes(), (std::vector<int64_t>{3, kFrames, 3, kSize, kSize}));
  EXPECT_EQ(batch->video.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(batch->indices, torch::tensor({0, 1, 2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch->labels, torch::full({3}, -1, torch::kLong)));
  EXPECT_EQ(batch->num_replaced, 0);
  expect_items_match(*batch);
  EXPECT_EQ(loader.state(), (LoaderState{0, 3, 0}));
  ASSERT_TRUE(loader.next());
  EXPECT_FALSE(loader.next());
  EXPECT_EQ(loader.state(), (LoaderState{1, 0, 0}));
  EXPECT_EQ(loader.stats().loaded, 6);
}

TEST_F(LoaderTest, OrderAndPixelsDoNotDependOnTheNumberOfWorkers) {
  auto dataset = make_dataset(20);
  VideoTextLoader one(dataset, LoaderOptions(4).num_workers(1).seed(9));
  VideoTextLoader three(dataset, LoaderOptions(4).num_workers(3).prefetch_batches(3).seed(9));
  const auto a = drain(one), b = drain(three);
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i].indices, b[i].indices));
    EXPECT_TRUE(torch::equal(a[i].video, b[i].video)) << "batch " << i;
    expect_items_match(a[i]);
  }
  // Shuffled, and differently in the next epoch and with another seed.
  const auto order = indices_of(a);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NE(order, sorted);
  EXPECT_NE(indices_of(drain(one)), order);
  VideoTextLoader other(dataset, LoaderOptions(4).seed(10));
  EXPECT_NE(indices_of(drain(other)), order);
}

TEST_F(LoaderTest, TwoRanksReadEverySampleExactlyOnce) {
  auto dataset = make_dataset(11);
  std::multiset<int64_t> seen;
  for (int64_t rank = 0; rank < 2; ++rank) {
    VideoTextLoader loader(dataset, LoaderOptions(2).rank(rank).world_size(2).drop_last(false).seed(4));
    for (const int64_t i : indices_of(drain(loader))) seen.insert(i);
  }
  ASSERT_EQ(seen.size(), 11u);
  for (int64_t i = 0; i < 11; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
  // With drop_last both ranks get the same number of full batches and still share no sample.
  std::set<int64_t> rank0, rank1;
  VideoTextLoader r0(dataset, LoaderOptions(2).rank(0).world_size(2).seed(4));
  VideoTextLoader r1(dataset, LoaderOptions(2).rank(1).world_size(2).seed(4));
  EXPECT_EQ(r0.batches_in_epoch(), 2);
  EXPECT_EQ(r1.batches_in_epoch(), 2);
  for (const int64_t i : indices_of(drain(r0))) rank0.insert(i);
  for (const int64_t i : indices_of(drain(r1))) rank1.insert(i);
  EXPECT_EQ(rank0.size() + rank1.size(), 8u);
  for (const int64_t i : rank0) EXPECT_EQ(rank1.count(i), 0u) << i;
}

TEST(Sharding, PositionsInterleaveRanksAndResume) {
  const std::vector<int64_t> order = {7, 3, 9, 1, 0, 8, 2, 6, 5, 4};
  EXPECT_EQ(shard_epoch(order, 0, 1, 3, 2, false).indices, (std::vector<int64_t>{3, 0, 6}));  // positions 1, 4, 7
  const Shard s = shard_epoch(order, 0, 0, 3, 2, true);  // floor(10 / 3) = 3 each -> one full batch of 2
  EXPECT_EQ(s.batches, 1);
  EXPECT_EQ(s.indices, (std::vector<int64_t>{7, 1}));
  EXPECT_EQ(shard_epoch(order, 6, 0, 2, 1, false).indices, (std::vector<int64_t>{2, 5}));
  expect_error([&] { shard_epoch(order, 11, 0, 1, 1, false); }, "sharding: expected a position in [0, 10], got 11");
}

TEST_F(LoaderTest, ResumedLoaderContinuesTheEpochExactly) {
  auto dataset = make_dataset(14);
  const auto options = LoaderOptions(3).num_workers(2).seed(77).rank(1).world_size(2);
  VideoTextLoader full(dataset, options);
  const auto all = drain(full);  // floor(7 / 3) = 2 batches on each rank
  ASSERT_EQ(all.size(), 2u);
  VideoTextLoader first(dataset, options);
  drain(first, 1);
  const std::string saved = loader_state_to_json(first.state());
  EXPECT_EQ(loader_state_from_json(saved), (LoaderState{0, 6, 77}));
  VideoTextLoader resumed(dataset, LoaderOptions(3).rank(1).world_size(2).seed(1), loader_state_from_json(saved));
  const auto rest = drain(resumed);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_TRUE(torch::equal(rest[0].indices, all[1].indices));
  EXPECT_TRUE(torch::equal(rest[0].video, all[1].video));
  // The next epoch also matches the uninterrupted run's.
  EXPECT_EQ(indices_of(drain(resumed)), indices_of(drain(full)));
}

TEST_F(LoaderTest, BadVideosAreReplacedDeterministicallyLoggedOnceAndCounted) {
  auto dataset = make_dataset(12, /*missing=*/{2, 5}, /*corrupt=*/{7});
  std::vector<std::string> logged;
  auto run = [&](int64_t epochs) {
    VideoTextLoader loader(dataset, LoaderOptions(4).num_workers(3).seed(3).log([&](const std::string& line) {
      logged.push_back(line);
    }));
    std::vector<int64_t> indices;
    int64_t replaced = 0;
    for (int64_t e = 0; e < epochs; ++e) {
      for (const auto& b : drain(loader)) {
        EXPECT_EQ(b.indices.size(0), 4);
        replaced += b.num_replaced;
        expect_items_match(b);
        for (const int64_t i : indices_of({b})) indices.push_back(i);
      }
    }
    EXPECT_EQ(loader.stats().replaced, replaced);
    EXPECT_EQ(replaced, 3 * epochs);  // each bad sample is drawn once per epoch (and its replacement is good or redrawn)
    EXPECT_EQ(loader.stats().missing, 2);
    EXPECT_EQ(loader.stats().corrupt, 1);
    return indices;
  };
  const auto first = run(2);
  EXPECT_EQ(logged.size(), 3u);  // once per bad video, though each was drawn twice
  for (const int64_t bad : {2, 5, 7}) EXPECT_EQ(std::count(first.begin(), first.end(), bad), 0);
  EXPECT_EQ(run(2), first);
  const bool names_file = std::any_of(logged.begin(), logged.end(), [](const std::string& l) {
    return l.find("missing video '") != std::string::npos && l.find("v2.mp4") != std::string::npos;
  });
  EXPECT_TRUE(names_file) << logged.front();
}

TEST_F(LoaderTest, EvaluationStopsOnABadVideoUnlessSkipping) {
  auto dataset = make_dataset(7, {4}, {}, /*train=*/false);
  VideoTextLoader strict(dataset, LoaderOptions(3).shuffle(false).drop_last(false).bad_video(BadVideoPolicy::kError).log(
                                      [](const std::string&) {}));
  ASSERT_TRUE(strict.next());
  // The worker's VideoError reaches this thread.
  expect_error([&] { strict.next(); }, {"missing video '", "v4.mp4"});
  VideoTextLoader lenient(dataset, LoaderOptions(3).shuffle(false).drop_last(false).bad_video(BadVideoPolicy::kSkip).log(
                                       [](const std::string&) {}));
  const auto batches = drain(lenient);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_TRUE(torch::equal(batches[1].indices, torch::tensor({3, 5}, torch::kLong)));
  EXPECT_EQ(batches[1].video.size(0), 2);
  expect_items_match(batches[1]);
  ASSERT_EQ(batches[1].skipped.size(), 1u);
  EXPECT_EQ(batches[1].skipped[0].index, 4);
  ASSERT_EQ(lenient.skipped().size(), 1u);
  EXPECT_NE(lenient.skipped()[0].reason.find("v4.mp4"), std::string::npos);
  EXPECT_EQ(lenient.stats().skipped, 1);
}

TEST_F(LoaderTest, WorkerErrorsSurfaceOnTheCallingThread) {
  // A clip setting every worker rejects (short side below the crop) must throw, not hang.
  auto base = make_dataset(4);
  auto broken = std::make_shared<const VideoTextDataset>(
      base->annotations(), ClipOptions(kFrames, kSize).train(true).transform(ClipTransformOptions(kSize).short_side(8)));
  VideoTextLoader loader(broken, LoaderOptions(2).num_workers(2));
  expect_error([&] { loader.next(); }, "expected 0 < size <= short_side");
  // When every video is bad, replacement gives up with a clear error.
  auto hopeless = make_dataset(3, {0, 1, 2});
  VideoTextLoader gives_up(hopeless, LoaderOptions(1).max_replacements(5).log([](const std::string&) {}));
  expect_error([&] { gives_up.next(); }, "gave up after 5 replacements");
}

TEST_F(LoaderTest, PrefetchIsBounded) {
  VideoTextLoader loader(make_dataset(16), LoaderOptions(2).num_workers(3).prefetch_batches(1).shuffle(false));
  int64_t consumed = 0;
  while (loader.next()) {
    ++consumed;
    EXPECT_LE(loader.stats().loaded, (consumed + 1) * 2) << "after batch " << consumed;
  }
  EXPECT_EQ(consumed, 8);  // 16 samples in batches of 2: the bound was checked on every batch
}

TEST(LoaderState, JsonRoundTripAndErrors) {
  const LoaderState s{3, 1234, 18446744073709551557ULL};
  EXPECT_EQ(loader_state_from_json(loader_state_to_json(s)), s);
  expect_error([] { loader_state_from_json("{\"epoch\": 1, \"position\": 2, \"seed\": 3}"); },
               "key 'seed' with a decimal string");
  expect_error([&] { loader_state_from_json("{\"epoch\": -1, \"position\": 0, \"seed\": \"1\"}"); }, "key 'epoch'");
  EXPECT_EQ(btadapter::enum_from_name<BadVideoPolicy>("skip"), BadVideoPolicy::kSkip);
  expect_error([] { btadapter::enum_from_name<BadVideoPolicy>("ignore"); }, "'ignore'");
}
