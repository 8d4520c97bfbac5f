// Spatial transforms and normalisation against hand-computed pixels and the official rounding rules.
#include "btadapter/data/transforms.h"

#include "support/test_support.h"

#include <gtest/gtest.h>

using namespace btadapter::data;
using btadapter::testing::expect_error;

namespace {
// uint8 [T,H,W,3] with every channel equal to `values` (row-major [H,W]) for each frame.
torch::Tensor gray_frames(const std::vector<std::vector<int>>& values, int64_t t = 1) {
  const auto h = static_cast<int64_t>(values.size()), w = static_cast<int64_t>(values[0].size());
  auto frame = torch::empty({h, w}, torch::kUInt8);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) frame[y][x] = values[static_cast<size_t>(y)][static_cast<size_t>(x)];
  }
  return frame.unsqueeze(-1).expand({h, w, 3}).unsqueeze(0).expand({t, h, w, 3}).contiguous();
}

torch::Tensor gradient_frames(int64_t t, int64_t h, int64_t w) {
  auto y = torch::arange(h, torch::kLong).view({h, 1, 1}), x = torch::arange(w, torch::kLong).view({1, w, 1});
  auto c = torch::arange(3, torch::kLong).view({1, 1, 3});
  auto frame = ((y * 7 + x * 3 + c * 50) % 200).to(torch::kUInt8);
  return frame.unsqueeze(0).repeat({t, 1, 1, 1});
}
}  // namespace

TEST(Transforms, ShortSideSizeUsesMmcvRounding) {
  EXPECT_EQ(short_side_size(360, 640, 256), std::make_pair(int64_t{256}, int64_t{455}));
  EXPECT_EQ(short_side_size(640, 360, 224), std::make_pair(int64_t{398}, int64_t{224}));
  // 6 * 0.75 = 4.5: int(4.5 + 0.5) = 5 (half up), where round-half-even would give 4.
  EXPECT_EQ(short_side_size(4, 6, 3), std::make_pair(int64_t{3}, int64_t{5}));
}

TEST(Transforms, BilinearDownscaleAveragesBlocks) {
  const auto frames = gray_frames({{10, 30, 100, 100}, {30, 50, 100, 100}, {0, 0, 200, 220}, {0, 0, 180, 200}});
  const auto out = resize_frames(frames, 2, 2);
  const auto expected = gray_frames({{30, 100}, {0, 200}});
  EXPECT_TRUE(torch::equal(out, expected)) << out.select(3, 0);
}

TEST(Transforms, BilinearUpscaleUsesHalfPixelCentres) {
  // x_src = (x + 0.5) / 2 - 0.5 = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  const auto out = resize_frames(gray_frames({{0, 100}, {0, 100}}), 2, 4);
  EXPECT_TRUE(torch::equal(out, gray_frames({{0, 25, 75, 100}, {0, 25, 75, 100}}))) << out.select(3, 0);
}

TEST(Transforms, CenterCropFloorsTheOffsets) {
  const CropBox box = center_crop_box(256, 455, 224);
  EXPECT_EQ(box.x, 115);
  EXPECT_EQ(box.y, 16);
  EXPECT_EQ(box.width, 224);
  const auto frames = gradient_frames(2, 5, 8);
  const auto cropped = crop_frames(frames, center_crop_box(5, 8, 3));  // x = 2, y = 1
  EXPECT_TRUE(torch::equal(cropped, frames.slice(1, 1, 4).slice(2, 2, 5)));
  expect_error([&] { center_crop_box(100, 200, 224); }, "expected a crop size in [1, 100]");
}

TEST(Transforms, RandomResizedCropFallsBackToTheCentredSquare) {
  DataRng rng(0);
  // Ratio 3 over the whole area (w = round(sqrt(200 * 3)) = 24) never fits a 10x20 frame.
  const CropBox box = random_resized_crop_box(10, 20, rng, RandomResizedCropOptions().min_area(1).max_area(1).min_ratio(3).max_ratio(3));
  EXPECT_EQ(box.x, 5);
  EXPECT_EQ(box.y, 0);
  EXPECT_EQ(box.width, 10);
  EXPECT_EQ(box.height, 10);
}

TEST(Transforms, RandomResizedCropBoxesRespectAreaAndRatio) {
  DataRng rng(11);
  for (int i = 0; i < 500; ++i) {
    const CropBox b = random_resized_crop_box(256, 455, rng);
    ASSERT_GE(b.x, 0);
    ASSERT_GE(b.y, 0);
    ASSERT_LE(b.x + b.width, 455);
    ASSERT_LE(b.y + b.height, 256);
    const double area = static_cast<double>(b.width * b.height) / (256.0 * 455.0);
    const double ratio = static_cast<double>(b.width) / static_cast<double>(b.height);
    const bool fallback = b.width == 256 && b.height == 256;
    if (!fallback) {
      EXPECT_GT(area, 0.07);
      EXPECT_GT(ratio, 0.7);
      EXPECT_LT(ratio, 1.4);
    }
  }
  DataRng a(5), b(5);
  const CropBox ba = random_resized_crop_box(256, 455, a), bb = random_resized_crop_box(256, 455, b);
  EXPECT_EQ(std::tie(ba.x, ba.y, ba.width, ba.height), std::tie(bb.x, bb.y, bb.width, bb.height));
}

TEST(Transforms, EvalPipelineIsResizeThenCentreCrop) {
  const auto frames = gradient_frames(3, 48, 80);
  const auto out = transform_clip(frames, ClipTransformOptions(32), nullptr);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  const auto resized = resize_short_side(frames, 32);  // 48x80 -> 32x53
  ASSERT_EQ(resized.size(2), 53);
  const auto expected = crop_frames(resized, center_crop_box(32, 53, 32)).permute({0, 3, 1, 2});
  EXPECT_TRUE(torch::equal(out, expected));
}

TEST(Transforms, TrainPipelineUsesOneBoxForAllFrames) {
  // Frames differ by a constant: with one box for all frames the outputs differ by that constant (up to
  // 2: each of the two resizes rounds in fixed point); another box would move the wrapping gradient far more.
  auto frames = gradient_frames(4, 60, 90);
  for (int64_t t = 0; t < 4; ++t) frames[t].add_(static_cast<int>(t * 10));
  const auto options = ClipTransformOptions(32).train(true);
  EXPECT_EQ(options.resolved_short_side(), 37);  // 32 * 256 / 224 = 36.57
  DataRng rng(123), replay(123);
  const auto out = transform_clip(frames, options, &rng);
  const auto diff = out.to(torch::kInt) - out[0].to(torch::kInt).unsqueeze(0);
  for (int64_t t = 0; t < 4; ++t) {
    EXPECT_LE((diff[t] - t * 10).abs().max().item<int>(), 2) << "frame " << t;
  }
  // The same as the pipeline spelled out: resize short side, crop the drawn box, resize to 32.
  const auto resized = resize_short_side(frames, 37);
  const CropBox box = random_resized_crop_box(resized.size(1), resized.size(2), replay);
  const auto expected = resize_frames(crop_frames(resized, box), 32, 32).permute({0, 3, 1, 2});
  EXPECT_TRUE(torch::equal(out, expected));
}

TEST(Transforms, NormalizeUsesTheOfficialMeanAndStd) {
  auto video = torch::zeros({1, 3, 1, 2}, torch::kUInt8);
  video.select(3, 1).fill_(255);
  const auto out = normalize_clip(video);
  ASSERT_EQ(out.scalar_type(), torch::kFloat);
  const auto expected = torch::tensor({{-122.771 / 68.5, (255 - 122.771) / 68.5},
                                       {-116.746 / 66.632, (255 - 116.746) / 66.632},
                                       {-104.093 / 70.323, (255 - 104.093) / 70.323}},
                                      torch::kDouble)
                            .view({1, 3, 1, 2});
  BT_EXPECT_CLOSE(out, expected, 1e-5, 0);
  expect_error(
      [] {
        normalize_clip(torch::zeros({2, 4, 4}, torch::kUInt8));
      },
      "normalize_clip: expected [..., 3, H, W], got [2, 4, 4]");
}
