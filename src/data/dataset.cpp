#include "btadapter/data/dataset.h"

namespace btadapter::data {

VideoTextDataset::VideoTextDataset(Annotations annotations, ClipOptions clip)
    : annotations_(std::move(annotations)), clip_(std::move(clip)) {
  TORCH_CHECK(!annotations_.samples.empty(), "dataset: annotations '", annotations_.path, "' (format ",
              annotations_.format, ") hold no sample");
}

const VideoTextSample& VideoTextDataset::sample(int64_t index) const {
  TORCH_CHECK(index >= 0 && index < size(), "dataset: expected a sample index in [0, ", size(), "), got ", index);
  return annotations_.samples[static_cast<size_t>(index)];
}

Clip VideoTextDataset::load(int64_t index, uint64_t seed) const { return load_clip(sample(index).video, clip_, seed); }

}  // namespace btadapter::data
