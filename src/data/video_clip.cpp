#include "btadapter/data/video_clip.h"

#include "btadapter/data/frame_sampling.h"

namespace btadapter::data {

std::string too_short_reason(int64_t video_frames, int64_t clip_frames) {
  if (video_frames >= clip_frames) return "";
  return std::to_string(video_frames) + " decodable frames, fewer than " + std::to_string(clip_frames);
}

Clip load_clip(const std::string& path, const ClipOptions& options, uint64_t seed) {
  TORCH_CHECK(options.num_frames() >= 1, "load_clip: expected num_frames >= 1, got ", options.num_frames());
  DataRng rng(seed);
  VideoReader reader(path, options.reader());
  const DecodedFrames decoded = reader.read_sampled([&](int64_t n) {
    if (options.sampling() == FrameSampling::kStart) return start_sample(n, options.num_frames());
    return options.train() ? uniform_sample_train(n, options.num_frames(), rng)
                           : uniform_sample_test(n, options.num_frames());
  });
  Clip clip;
  clip.frames = transform_clip(decoded.frames, options.transform(), &rng);
  clip.indices = decoded.indices;
  clip.video_frames = decoded.num_frames;
  clip.count_corrected = decoded.count_corrected;
  return clip;
}

}  // namespace btadapter::data
