// data/conversation_frames.h: the official get_seq_frames cases of the fixture, the load_video
// preprocessing against independent computations, and reading a generated video.

#include "conversation_fixture.h"

#include "data/video_fixtures.h"
#include "btadapter/data/conversation_frames.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace btadapter::testing {
namespace {

using data::conversation_frame_indices;

TEST(ConversationFrames, OfficialSeqFramesCases) {
  const auto& f = conversation_fixture();
  int cases = 0;
  for (const auto& c : f.config.at("frame_sampling").at("cases")) {
    const auto indices =
        conversation_frame_indices(c.at("total_frames").get<int64_t>(), c.at("num_frm").get<int64_t>());
    expect_fixture_match(c.at("name").get<std::string>(), torch::tensor(indices, torch::kLong));
    ++cases;
  }
  EXPECT_GE(cases, 1);
  EXPECT_EQ(conversation_frame_indices(11, 4), (std::vector<int64_t>{1, 3, 6, 9}));  // half to even
  EXPECT_EQ(conversation_frame_indices(7, 100), (std::vector<int64_t>{0, 1, 2, 3, 3, 4, 5}));
  EXPECT_EQ(conversation_frame_indices(1, 64), (std::vector<int64_t>{0}));
  expect_error([] { conversation_frame_indices(0, 4); }, "at least 1 frame");
  expect_error([] { conversation_frame_indices(10, 0); }, "at least 1 frame to sample");
}

// CLIPImageProcessor's rescale and normalisation, in float64.
torch::Tensor normalised(const torch::Tensor& uint8_thwc) {
  auto x = uint8_thwc.permute({0, 3, 1, 2}).to(torch::kDouble) / 255.0;
  auto mean = torch::tensor({0.48145466, 0.4578275, 0.40821073}, torch::kDouble).view({1, 3, 1, 1});
  auto stdev = torch::tensor({0.26862954, 0.26130258, 0.27577711}, torch::kDouble).view({1, 3, 1, 1});
  return ((x - mean) / stdev).to(torch::kFloat);
}

TEST(ConversationFrames, SquareFramesOfTheImageSizeAreOnlyNormalised) {
  const auto frames = torch::randint(0, 256, {3, 224, 224, 3}, torch::kUInt8);
  const auto out = data::preprocess_conversation_frames(frames);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 3, 224, 224}));
  EXPECT_LE(max_abs_diff(out, normalised(frames)), 1e-6);
}

TEST(ConversationFrames, OfficialNearestSquareResize) {
  // 112 x 448 -> 224 x 224 nearest (src = floor(dst * in / out)), then no processor resize at S = 224.
  const auto frames = torch::randint(0, 256, {2, 112, 448, 3}, torch::kUInt8);
  const auto out = data::preprocess_conversation_frames(frames);
  auto rows = torch::floor(torch::arange(224, torch::kDouble) * (112.0 / 224.0)).to(torch::kLong);
  auto cols = torch::floor(torch::arange(224, torch::kDouble) * (448.0 / 224.0)).to(torch::kLong);
  const auto expected = frames.index_select(1, rows).index_select(2, cols);
  EXPECT_LE(max_abs_diff(out, normalised(expected)), 1e-6);
  // Without it: shortest edge to 224 (448 x 896 bicubic, up-sampling), then the centre crop.
  const auto kept = data::preprocess_conversation_frames(frames, data::ConversationFrameOptions().square_resize(false));
  EXPECT_EQ(kept.sizes(), (std::vector<int64_t>{2, 3, 224, 224}));
  EXPECT_GT(max_abs_diff(kept, out), 0.1);
}

TEST(ConversationFrames, ProcessorResizesTheShortEdgeAndCropsTheCentre) {
  // A frame constant per column band: after resize + centre crop of a 64 x 128 frame to S = 32 the
  // crop covers columns 32..95 of the original, so the left and right bands are gone.
  auto frames = torch::zeros({1, 64, 128, 3}, torch::kUInt8);
  frames.narrow(2, 0, 32).fill_(255);
  frames.narrow(2, 96, 32).fill_(255);
  const auto opts = data::ConversationFrameOptions().image_size(32).square_resize(false);
  const auto out = data::preprocess_conversation_frames(frames, opts);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 32, 32}));
  const auto black = normalised(torch::zeros({1, 1, 1, 3}, torch::kUInt8));
  EXPECT_LE(max_abs_diff(out.narrow(3, 4, 24), black.expand({1, 3, 32, 24})), 1e-6);
  EXPECT_EQ(data::preprocess_conversation_frames(frames, data::ConversationFrameOptions().image_size(32)).sizes(),
            (std::vector<int64_t>{1, 3, 32, 32}));
}

TEST(ConversationFrames, ReadsTheOfficialIndicesOfAVideo) {
  TempDir dir;
  const auto coded = coded_frames(40, 64);
  data::write_video((dir / "v.mp4").string(), coded);
  const auto opts = data::ConversationFrameOptions().num_frames(6).image_size(64).square_resize(false);
  const auto video = data::read_conversation_video((dir / "v.mp4").string(), opts);
  EXPECT_EQ(video.total_frames, 40);
  EXPECT_EQ(video.indices, conversation_frame_indices(40, 6));
  EXPECT_EQ(video.frames.sizes(), (std::vector<int64_t>{6, 3, 64, 64}));
  // Undo the normalisation and read each frame's code: the frames are the chosen ones, in order.
  auto mean = torch::tensor({0.48145466, 0.4578275, 0.40821073}).view({1, 3, 1, 1});
  auto stdev = torch::tensor({0.26862954, 0.26130258, 0.27577711}).view({1, 3, 1, 1});
  auto pixels = ((video.frames * stdev + mean) * 255).round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1});
  EXPECT_EQ(decode_codes(pixels), video.indices);
}

}  // namespace
}  // namespace btadapter::testing
