#pragma once
/// A weights file of any supported kind read for building a model: its tensors under canonical names,
/// the config that fits them and, beside it, the tokenizer vocabulary. The one loading path of
/// btadapter::Model::load, bt_export and bt_pretrain's model.clip.
///
///   file                                   config from                        canonical tensors
///   libbtadapter model file                its metadata (btadapter.config)    as stored
///   official BT-Adapter weights            the shapes (io/config_inference)   module./timesFPN normalised
///   OpenAI / HF / open_clip CLIP           the shapes + options.base()        renamed (io/weight_naming.h)
///   + options.adapter() (any of them)      the merged shapes                  merged (a name in both files
///                                                                             is an error)
///
/// Shapes cannot give the attention heads: they come from a model file's stored config, else from
/// options.vision_heads/text_heads when set, else from options.base() when its width equals the weights',
/// else width / 64 (OpenAI's rule, right for every released CLIP). Every other field comes from the
/// stored config (with options.keep_base_settings() only its vision and text towers) or options.base().
///
/// Usage:
///   io::ModelWeights w = io::read_model_weights("ViT-B-16.pt", io::ReadModelWeightsOptions().vision_heads(12));
///   std::string vocab = io::resolve_vocab("", w.config.tokenizer.vocab, "ViT-B-16.pt", "pass --vocab");
///
/// Thread safety: free functions without shared state.

#include "btadapter/config/model_config.h"
#include "btadapter/io/safetensors.h"
#include "btadapter/io/weight_naming.h"
#include "btadapter/io/weights_file.h"

#include <torch/arg.h>

#include <optional>
#include <string>

namespace btadapter::io {

struct ReadModelWeightsOptions {
  /// Safetensors tensors as copies (default) or zero-copy views of the file's mapping.
  TORCH_ARG(TensorReading, reading) = TensorReading::kCopies;
  /// Extra weights merged in (e.g. an adapter-only file next to a CLIP file); default "" (none).
  TORCH_ARG(std::string, adapter) = "";
  /// Attention heads of files without a stored config; default 0: see the header for the rule.
  TORCH_ARG(int64_t, vision_heads) = 0;
  TORCH_ARG(int64_t, text_heads) = 0;
  /// The fields shapes cannot give, for files without a stored config; default ModelConfig{}.
  TORCH_ARG(ModelConfig, base);
  /// Take only the tower shapes (vision, text) of a stored config and keep the base's other settings
  /// (a training run's own adapter, tokenizer and loss settings); default false: the stored config whole.
  TORCH_ARG(bool, keep_base_settings) = false;
  /// Check a model file's tensors against its stored btadapter.tensors_sha256; default true.
  TORCH_ARG(bool, verify_checksum) = true;
};

struct ModelWeights {
  ModelConfig config;                 ///< inferred from the shapes and validated
  TensorMap tensors;                  ///< CPU tensors under canonical names
  Metadata metadata;                  ///< the main file's string metadata
  WeightsFormat format = WeightsFormat::kSafetensors;
  WeightNaming naming = WeightNaming::kOfficial;  ///< the naming the main file's keys use
  std::optional<ModelConfig> stored;  ///< the config a libbtadapter model file stores
};

/// Reads `path` (and options.adapter()) as described above. Throws c10::Error naming the file and the
/// problem: missing file, unknown container, unrecognised tensor names, inconsistent shapes, a name in
/// both files, a model file whose tensors do not match their checksum.
ModelWeights read_model_weights(const std::string& path, const ReadModelWeightsOptions& options = {});

/// The tokenizer vocabulary of the model at `model_path` (a weights file or an HF model folder; "" for
/// weights in memory):
///  1. `given` when set (LoadOptions::vocab, a training config's model.tokenizer.vocab); it must exist;
///  2. else `stored`, the vocabulary a model file's config names: as stored, then beside the model file
///     (under the stored relative path, then under its file name), so that a model file and its
///     vocabulary can move together;
///  3. else the model's folder (`model_path` itself when it is a folder, else its parent) when it holds
///     an HF vocab.json (merges.txt beside, as HF CLIP folders do) or bpe_simple_vocab_16e6.txt.gz.
/// Throws c10::Error naming the model and what was tried; `hint` says how to give one (e.g. "pass one
/// with LoadOptions::vocab").
std::string resolve_vocab(const std::string& given, const std::string& stored, const std::string& model_path,
                          const std::string& hint);

}  // namespace btadapter::io
