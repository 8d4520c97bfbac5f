#pragma once
/// Building the model a pretraining run starts from, per the `model.*` section of the training config:
///
///   model.clip = PATH     CLIP weights in any container io/ reads (HF folder or model.safetensors /
///                         pytorch_model.bin, OpenAI .pt, official .pth, or a btadapter model file).
///                         Tower sizes come from the weights (io/config_inference.h); attention heads from
///                         a btadapter model file's stored config, else from model.vision/text.heads when
///                         model.vision/text.width equals the weights' width, else width / 64 (OpenAI's
///                         rule, right for every released CLIP). If the file also holds adapter weights
///                         (an earlier BT-Adapter run), they are loaded and training continues from them;
///                         otherwise the branch gets the official fresh initialisation
///                         (VideoTextModel::init_branch_from_clip) with adapter settings from the config.
///   model.random_clip     a randomly initialised CLIP with the config's sizes (demos that train their own
///                         tiny CLIP, tests); model.clip must then be empty.
///   model.train_clip      false (default): CLIP frozen, only the branch trains (BT-Adapter pretraining);
///                         true: every parameter trains (e.g. an image-text CLIP stage with depth 0).
///
/// Randomness: the fresh branch and the random CLIP draw from torch's global generator; seed it
/// (torch::manual_seed) before calling for a reproducible start.
///
/// Thread safety: plain functions; building reads files only.

#include <string>

#include "btadapter/model/video_text_model.h"
#include "btadapter/train/train_config.h"

namespace btadapter::train {

/// The weights file inside `path`: `path` itself when it is a file; for a folder (an HF model folder)
/// its model.safetensors, else its pytorch_model.bin. Throws c10::Error naming the folder and the file
/// names looked for.
std::string resolve_weights_file(const std::string& path);

/// A model built from the config, with a one-line description for logs.
struct BuiltModel {
  VideoTextModel model{nullptr};
  /// e.g. "CLIP from /m/clip.safetensors (vision 1024x24, text 768x12, embed 768); adapter depth 4, fresh init;
  /// CLIP frozen; 87.3M trainable of 515.1M parameters"
  std::string description;
};

/// Builds the model of `section` on the CPU. Throws c10::Error naming the key (model.clip,
/// model.random_clip) or the file when the weights are missing or do not fit.
BuiltModel build_pretrain_model(const ModelSection& section);

/// The tokenizer config of a run: section.config.tokenizer, with an empty vocabulary resolved to the
/// folder of model.clip (or model.clip itself when it is a folder), where HF CLIP folders keep
/// vocab.json / merges.txt. Throws naming model.tokenizer.vocab when there is nothing to resolve it from.
TokenizerConfig resolve_tokenizer_config(const ModelSection& section);

}  // namespace btadapter::train
