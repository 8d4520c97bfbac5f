#include "btadapter/eval/dataset_presets.h"

#include <torch/torch.h>

#include <cmath>

namespace btadapter::eval {
namespace {

const std::vector<DatasetPreset>& presets() {
  static const std::vector<DatasetPreset> table{
      {"msrvtt", "MSR-VTT 1k-A", EvalTask::kRetrieval, "msrvtt-json", 12, "official:32", 224},
      {"didemo", "DiDeMo", EvalTask::kRetrieval, "didemo-json", 64, "official:77", 256},
      {"lsmdc", "LSMDC", EvalTask::kRetrieval, "lsmdc-json", 64, "official:77", 256},
      {"anet", "ActivityNet Captions", EvalTask::kRetrieval, "paragraph-json", 64, "official:77", 256},
      {"generic", "Retrieval", EvalTask::kRetrieval, "jsonl", 12, "openai", 224},
      {"k400", "Kinetics-400", EvalTask::kRecognition, "k400", 16, "official:32", 224},
      {"ucf101", "UCF101", EvalTask::kRecognition, "ucf101", 16, "official:32", 224},
      {"hmdb51", "HMDB51", EvalTask::kRecognition, "hmdb51", 16, "official:32", 224},
  };
  return table;
}

}  // namespace

const DatasetPreset& dataset_preset(const std::string& name) {
  for (const auto& preset : presets()) {
    if (preset.name == name) return preset;
  }
  std::string known;
  for (const auto& preset : presets()) known += (known.empty() ? "" : ", ") + preset.name;
  TORCH_CHECK(false, "unknown dataset preset '", name, "'; expected one of: ", known);
}

std::vector<std::string> dataset_preset_names(EvalTask task) {
  std::vector<std::string> names;
  for (const auto& preset : presets()) {
    if (preset.task == task) names.push_back(preset.name);
  }
  return names;
}

int64_t scaled_short_side(int64_t short_side_224, int64_t image_size) {
  TORCH_CHECK(short_side_224 > 0 && image_size > 0, "scaled_short_side: expected positive sizes, got ",
              short_side_224, " and ", image_size);
  return static_cast<int64_t>(std::lround(static_cast<double>(short_side_224) * image_size / 224.0));
}

VideoOptions preset_video_options(const DatasetPreset& preset, int64_t image_size) {
  return VideoOptions().num_frames(preset.num_frames).short_side(scaled_short_side(preset.short_side_224, image_size));
}

}  // namespace btadapter::eval
