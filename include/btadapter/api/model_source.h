#pragma once
/// From weights files of any supported kind to a built VideoTextModel: what btadapter::Model::load and
/// bt_export do before anything else. The reading is io::read_model_weights (io/model_weights.h, shared
/// with training's model.clip); this adds the facade's options.
///
///   file                                   config from                      canonical tensors
///   libbtadapter model file                its metadata (btadapter.config)  as stored
///   official BT-Adapter weights            the shapes (io/config_inference)  module./timesFPN normalised
///   OpenAI / HF / open_clip CLIP           the shapes, adapter depth 0      renamed (io/weight_naming.h)
///   + LoadOptions::adapter (any of them)   the merged shapes                merged (a name in both files
///                                                                           is an error)
///
/// Shapes cannot give everything: the attention heads come from the stored config or from
/// LoadOptions::vision_heads/text_heads (default width / 64), and everything else (tokenizer, text
/// pooling, masking, norms) from the stored config or the ModelConfig defaults, with the tokenizer's
/// context length set to the text tower's. LoadOptions::fusion then decides the fusion ("add" drops
/// backbone.balance1/2, "learned" requires them) and LoadOptions::truncate the text truncation.
///
/// Usage:
///   api::ModelSource source = api::read_model_source("ViT-B-16.pt", LoadOptions().vocab(bpe));
///   VideoTextModel model = api::build_video_text_model(source.config, source.tensors);
///
/// Thread safety: free functions without shared state.

#include "btadapter/btadapter.h"
#include "btadapter/model/video_text_model.h"

#include <string>

namespace btadapter::api {

/// Weights and the config they belong to.
struct ModelSource {
  ModelConfig config;        ///< validated; fusion and truncation overrides applied
  io::TensorMap tensors;     ///< CPU tensors under canonical names, exactly the model's keys; for a
                             ///< safetensors file zero-copy views of its mapping (treat as read-only)
  io::Metadata metadata;     ///< the main file's string metadata
  std::string description;   ///< one line for logs, e.g. "OpenAI CLIP weights (TorchScript), no adapter"
};

/// Reads `path` (and options.adapter()) as described above. Throws c10::Error naming the file and the
/// problem: missing file, unknown container, unrecognised tensor names, inconsistent shapes, a name in
/// both files, an unknown fusion name, learned fusion without balance weights.
ModelSource read_model_source(const std::string& path, const LoadOptions& options);

/// Applies options.fusion() and options.truncate() to a config and its canonical tensors (the part of
/// read_model_source that Model::from_weights shares).
void apply_overrides(ModelConfig& config, io::TensorMap& tensors, const LoadOptions& options,
                     const std::string& where);

/// Builds the model for `config` and loads `tensors` strictly (every key must match in name and shape;
/// only `extra_proj.*`, the training-only MBTA head, may be absent), in eval mode on the CPU in float32.
VideoTextModel build_video_text_model(const ModelConfig& config, const io::TensorMap& tensors);

}  // namespace btadapter::api
