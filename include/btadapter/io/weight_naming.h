#pragma once
/// Renaming between the checkpoint namings a BT-Adapter model meets and the canonical names that
/// `VideoTextModel::named_parameters()` yields (the official `CLIPSimilarity_split` state-dict keys; the
/// full list is named_parameters() of a VideoTextModel, the mapping facts are the tables in weight_naming.cpp):
///
///   naming        example key                                        where it comes from
///   kOfficial     backbone.layers.0.self_attn.q_proj.weight          official BT-Adapter checkpoints (canonical)
///   kHuggingFace  vision_model.encoder.layers.0.self_attn.q_proj...  HF `CLIPModel` (model.safetensors, .bin)
///   kOpenAI       visual.transformer.resblocks.0.attn.in_proj_weight OpenAI CLIP `.pt`, open_clip
///   kAdapter      btadapter_S_layers.0.mlp.fc1.weight, extra_proj.0.* adapter-only files (no `backbone.`)
///
/// OpenAI's stacked `in_proj_{weight,bias}` are split into q, k, v (dim 0, in that order) and its
/// `visual.proj` [W,E] and `text_projection` [Wt,E] are transposed into HF's [E,W] `.weight`s; every
/// other tensor is only renamed (values are never changed, dtypes kept). Official checkpoints may carry
/// `module.` prefixes (DDP / mmengine) and the legacy `timesFPN` for `btadapter`; both are normalised.
/// Entries that are not model weights (`logit_scale`, `*.position_ids`, OpenAI's `input_resolution`,
/// `context_length`, `vocab_size`) are dropped.
///
/// Usage:
///   TensorMap canonical = to_canonical(read_weights_file("ViT-B-16.pt").tensors);
///   TensorMap hf = canonical_to_hf(canonical);   // the CLIP part, HF `CLIPModel` names
///
/// Thread safety: pure functions.

#include "btadapter/io/safetensors.h"

#include <optional>
#include <string>
#include <vector>

namespace btadapter::io {

enum class WeightNaming {
  kOfficial,     ///< canonical: the official recogniser's keys (after `module.`/`timesFPN` normalisation)
  kHuggingFace,  ///< HF `CLIPModel`
  kOpenAI,       ///< OpenAI CLIP (TorchScript `.pt` state) and open_clip's standard CLIP
  kAdapter,      ///< the official adapter keys without the `backbone.` prefix, plus `extra_proj.*`
};

const char* to_string(WeightNaming naming);

/// The naming of one key (after `module.`/`timesFPN` normalisation), or nullopt when the key is not
/// recognised or is a dropped non-weight entry.
std::optional<WeightNaming> naming_of_key(const std::string& key);

/// The one naming that every recognised key of `tensors` uses. Throws c10::Error when keys use several
/// namings (naming one key of each) or when no key is recognised.
WeightNaming detect_naming(const TensorMap& tensors);

/// Converts any mix of the four namings to canonical names, key by key (so an HF CLIP file merged with
/// an adapter file converts in one call). Throws one c10::Error listing every unrecognised key, and
/// when two keys map to the same canonical name (e.g. both `x` and `module.x`). If `dropped` is given,
/// the non-weight entries that were left out are appended to it.
TensorMap to_canonical(const TensorMap& tensors, std::vector<std::string>* dropped = nullptr);

/// True for canonical keys of the BT-Adapter branch and its training head (`backbone.btadapter_*`,
/// `backbone.balance1/2`, `extra_proj.*`): the keys a CLIP-only file does not have.
bool is_adapter_key(const std::string& canonical_key);

/// Prefixes matching every adapter key (for LoadStateDictOptions::allow_missing_prefixes when loading
/// CLIP-only weights into a full model).
const std::vector<std::string>& adapter_key_prefixes();

/// Canonical -> HF `CLIPModel` names for the CLIP towers, with `logit_scale` (a 0-d float tensor holding
/// `logit_scale`; default ln(100), the model's fixed temperature 0.01) added so that HF loads the file
/// without a missing key. Adapter keys are not part of a CLIPModel: they are moved to `adapter` when it
/// is given (canonical names) and otherwise left out. Any other key is an error.
TensorMap canonical_to_hf(const TensorMap& canonical, TensorMap* adapter = nullptr,
                          double logit_scale = 4.605170185988092);

/// Canonical -> OpenAI CLIP names (q, k, v concatenated into `in_proj_*`, projections transposed), with
/// `logit_scale` as for canonical_to_hf. A layer with only some of q/k/v is an error naming it.
TensorMap canonical_to_openai(const TensorMap& canonical, TensorMap* adapter = nullptr,
                              double logit_scale = 4.605170185988092);

}  // namespace btadapter::io
