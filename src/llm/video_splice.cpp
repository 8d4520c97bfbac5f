#include "btadapter/llm/video_splice.h"

#include <torch/torch.h>

#include <vector>

namespace btadapter::llm {

torch::Tensor splice_video_features(const torch::Tensor& input_ids, const torch::Tensor& embeds,
                                    const torch::Tensor& features, const VideoSpliceOptions& options) {
  TORCH_CHECK(input_ids.dim() == 2 && input_ids.scalar_type() == torch::kLong,
              "splice_video_features: expected input_ids [B, N] int64, got ", input_ids.sizes(), " ",
              input_ids.scalar_type());
  TORCH_CHECK(embeds.dim() == 3 && embeds.size(0) == input_ids.size(0) && embeds.size(1) == input_ids.size(1),
              "splice_video_features: expected embeds [", input_ids.size(0), ", ", input_ids.size(1),
              ", D], got ", embeds.sizes());
  TORCH_CHECK(features.dim() == 3 && features.size(2) == embeds.size(2) && features.size(1) > 0,
              "splice_video_features: expected features [videos, P+1, ", embeds.size(2), "], got ", features.sizes());
  TORCH_CHECK(features.scalar_type() == embeds.scalar_type() && features.device() == embeds.device(),
              "splice_video_features: expected features in ", embeds.scalar_type(), " on ", embeds.device(), ", got ",
              features.scalar_type(), " on ", features.device());
  const auto ids = input_ids.to(torch::kCPU).contiguous();
  const int64_t n = ids.size(1), rows = features.size(1);
  int64_t video = 0;
  std::vector<torch::Tensor> samples;
  for (int64_t b = 0; b < ids.size(0); ++b) {
    const int64_t* id = ids.data_ptr<int64_t>() + b * n;
    const auto sample = embeds[b];
    std::vector<int64_t> starts;
    int64_t patches = 0, ends = 0;
    for (int64_t i = 0; i < n; ++i) {
      patches += id[i] == options.vid_patch_id();
      ends += id[i] == options.vid_end_id();
      if (id[i] == options.vid_start_id()) starts.push_back(i);
    }
    if (patches == 0) {
      samples.push_back(sample);
      ++video;
      continue;
    }
    TORCH_CHECK(static_cast<int64_t>(starts.size()) == ends, "splice_video_features: sample ", b, " has ",
                starts.size(), " <vid_start> (id ", options.vid_start_id(), ") but ", ends, " <vid_end> (id ",
                options.vid_end_id(), ")");
    // Pieces in order: text rows (detached when asked), <vid_start>, features, <vid_end>, ...
    std::vector<torch::Tensor> pieces;
    int64_t next = 0;  // first row not yet taken
    const auto text = [&](int64_t begin, int64_t end) {
      if (end <= begin) return;
      const auto piece = sample.narrow(0, begin, end - begin);
      pieces.push_back(options.detach_text_rows() ? piece.detach() : piece);
    };
    for (const int64_t s : starts) {
      const int64_t end = s + rows + 1;
      TORCH_CHECK(end < n, "splice_video_features: sample ", b, ": <vid_start> at ", s, " needs ", rows,
                  " feature rows and <vid_end> at ", end, ", past the sequence of ", n, " tokens");
      TORCH_CHECK(id[end] == options.vid_end_id(), "splice_video_features: sample ", b, ": expected <vid_end> (id ",
                  options.vid_end_id(), ") at ", end, " = <vid_start> position ", s, " + ", rows,
                  " feature rows + 1, got id ", id[end]);
      TORCH_CHECK(s >= next, "splice_video_features: sample ", b, ": <vid_start> at ", s,
                  " lies inside the previous video's rows");
      TORCH_CHECK(video < features.size(0), "splice_video_features: the batch needs more than the ",
                  features.size(0), " videos given");
      text(next, s);
      pieces.push_back(sample.narrow(0, s, 1));
      pieces.push_back(features[video++]);
      pieces.push_back(sample.narrow(0, end, 1));
      next = end + 1;
    }
    text(next, n);
    samples.push_back(torch::cat(pieces, 0));
  }
  TORCH_CHECK(video == features.size(0), "splice_video_features: ", features.size(0), " videos given but the batch ",
              "uses ", video);
  return torch::stack(samples, 0);
}

}  // namespace btadapter::llm
