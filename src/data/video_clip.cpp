#include "btadapter/data/video_clip.h"

#include "btadapter/data/frame_sampling.h"

namespace btadapter::data {

Clip load_clip(const std::string& path, const ClipOptions& options, uint64_t seed) {
  TORCH_CHECK(options.num_frames() >= 1, "load_clip: expected num_frames >= 1, got ", options.num_frames());
  DataRng rng(seed);
  VideoReader reader(path, options.reader());
  const DecodedFrames decoded = reader.read_sampled([&](int64_t n) {
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
