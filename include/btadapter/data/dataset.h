#pragma once
/// Annotations plus clip settings: the random-access dataset that the loader and the tools read.
///
///   auto ds = std::make_shared<VideoTextDataset>(read_annotations(file, "webvid", opts), ClipOptions(8, 224).train(true));
///   Clip c = ds->load(17, seed);   // sample 17's clip
///
/// Thread safety: immutable after construction; load() may run on many threads at once.

#include "btadapter/data/annotations.h"
#include "btadapter/data/video_clip.h"

#include <cstdint>

namespace btadapter::data {

class VideoTextDataset {
 public:
  /// Throws when `annotations` holds no sample.
  VideoTextDataset(Annotations annotations, ClipOptions clip);

  int64_t size() const { return static_cast<int64_t>(annotations_.samples.size()); }
  const VideoTextSample& sample(int64_t index) const;
  const Annotations& annotations() const { return annotations_; }
  const ClipOptions& clip_options() const { return clip_; }
  /// Decodes sample `index`'s clip (seed: see load_clip). Throws VideoError for a bad video.
  Clip load(int64_t index, uint64_t seed) const;

 private:
  Annotations annotations_;
  ClipOptions clip_;
};

}  // namespace btadapter::data
