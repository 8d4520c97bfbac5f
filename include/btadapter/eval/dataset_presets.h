#pragma once
/// The official zero-shot test settings of each evaluation dataset (reference.md 2.1-2.5, 3.3, 3.5), so
/// that `--dataset msrvtt` alone gives the protocol the released numbers were measured with.
///
///   preset   task         format          frames  text             resize (224 model)
///   msrvtt   retrieval    msrvtt-json     12      official:32      short side 224, centre crop
///   didemo   retrieval    didemo-json     64      official:77      short side 256, centre crop
///   lsmdc    retrieval    lsmdc-json      64      official:77      short side 256, centre crop
///   anet     retrieval    paragraph-json  64      official:77      short side 256, centre crop
///   generic  retrieval    jsonl           12      openai (77)      short side 224, centre crop
///   k400     recognition  k400            16      official:32      short side 224, centre crop
///   ucf101   recognition  ucf101          16      official:32      short side 224, centre crop
///   hmdb51   recognition  hmdb51          16      official:32      short side 224, centre crop
///
/// "official:N" is BT-Adapter's `tokenize(text)[0][:N]` (text/tokenizer.h). For models of another input
/// size the short side scales with it (256 becomes round(256 * S / 224)). Each tool option overrides
/// its preset value.
///
/// Thread safety: immutable tables.

#include "btadapter/btadapter.h"

#include <cstdint>
#include <string>
#include <vector>

namespace btadapter::eval {

enum class EvalTask { kRetrieval, kRecognition };

struct DatasetPreset {
  std::string name;              ///< preset name (--dataset)
  std::string title;             ///< shown above the metrics table
  EvalTask task = EvalTask::kRetrieval;
  std::string format;            ///< annotation format (data/annotations.h)
  int64_t num_frames = 12;       ///< frames per video
  std::string truncate;          ///< text truncation for LoadOptions::truncate
  int64_t short_side_224 = 224;  ///< resize short side for a 224-pixel model
};

/// The preset called `name`; throws listing the names of `task` (all names when unknown).
const DatasetPreset& dataset_preset(const std::string& name);
/// Names of the presets of one task, in table order.
std::vector<std::string> dataset_preset_names(EvalTask task);

/// short_side_224 scaled to a model of `image_size` pixels: round(short_side_224 * image_size / 224).
int64_t scaled_short_side(int64_t short_side_224, int64_t image_size);

/// VideoOptions with the preset's frames and (scaled) short side; batching left at its defaults.
VideoOptions preset_video_options(const DatasetPreset& preset, int64_t image_size);

}  // namespace btadapter::eval
