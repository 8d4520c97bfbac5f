#include "btadapter/api/video_encoding.h"

#include "btadapter/data/loader.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

namespace btadapter::api {

VideoEncoding encode_video_files(const Model& model, const std::vector<std::string>& paths,
                                 const VideoOptions& options, const VideoEncodingPolicy& policy) {
  TORCH_CHECK(options.num_frames() >= 1 && options.batch_size() >= 1 && options.num_workers() >= 1,
              "encode_videos: expected num_frames, batch_size and num_workers >= 1, got ", options.num_frames(), ", ",
              options.batch_size(), ", ", options.num_workers());
  const auto total = static_cast<int64_t>(paths.size());
  VideoEncoding out;
  out.embeddings = torch::zeros({total, model.embed_dim()});
  out.ok.assign(paths.size(), true);
  if (paths.empty()) return out;

  data::Annotations annotations;
  annotations.path = "<video list>";
  annotations.format = "paths";
  for (int64_t i = 0; i < total; ++i) {
    data::VideoTextSample sample;
    sample.video = sample.id = paths[i];
    sample.row = i + 1;
    annotations.samples.push_back(std::move(sample));
  }
  data::ClipOptions clip(options.num_frames(), model.config().vision.image_size);
  clip.transform().short_side(options.short_side());
  auto dataset = std::make_shared<const data::VideoTextDataset>(std::move(annotations), clip);
  auto loader_options = data::LoaderOptions(options.batch_size())
                            .num_workers(options.num_workers())
                            .shuffle(false)
                            .drop_last(false)
                            .bad_video(policy.skip_bad_videos ? data::BadVideoPolicy::kSkip
                                                              : data::BadVideoPolicy::kError);
  if (policy.log) loader_options.log(policy.log);
  data::VideoTextLoader loader(dataset, loader_options);

  // Time spent waiting for the decoding workers (the rest of the loop is encoding).
  using Clock = std::chrono::steady_clock;
  int64_t done = 0;
  for (;;) {
    const auto waiting = Clock::now();
    auto batch = loader.next();
    out.decode_wait_seconds += std::chrono::duration<double>(Clock::now() - waiting).count();
    if (!batch) break;
    out.embeddings.index_copy_(0, batch->indices, model.encode_videos(batch->video));
    done += batch->indices.size(0) + static_cast<int64_t>(batch->skipped.size());
    if (policy.progress) policy.progress(done, total);
  }
  // A batch whose items were all skipped is never returned: the loader's list is the complete one.
  std::vector<data::SkippedVideo> skipped = loader.skipped();
  std::sort(skipped.begin(), skipped.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  for (const auto& s : skipped) {
    out.ok[s.index] = false;
    out.skipped.push_back(paths[s.index]);
    out.reasons.push_back(s.reason);
  }
  if (policy.progress && done < total) policy.progress(total, total);
  return out;
}

}  // namespace btadapter::api
