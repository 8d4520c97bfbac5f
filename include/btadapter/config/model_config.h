#pragma once
/// The one model configuration that crosses the whole library: CLIP towers, the BT-Adapter branch and
/// the tokenizer. It is stored (as JSON) in every checkpoint and export, so tools load a model from one
/// file without the training YAML.
///
/// Sizes can be given by hand or inferred from weights (see btadapter/io/config_inference.h).

#include "btadapter/config/enum_names.h"
#include <cstdint>
#include <string>

namespace btadapter {

/// The CLIP vision transformer (OpenAI / Hugging Face ViT).
struct VisionConfig {
  int64_t width = 768;        ///< hidden size; default 768 (ViT-B)
  int64_t layers = 12;        ///< number of transformer blocks; default 12
  int64_t heads = 12;         ///< attention heads; default 12
  int64_t patch_size = 16;    ///< square patch side in pixels; default 16
  int64_t image_size = 224;   ///< trained input resolution; default 224
  int64_t mlp_dim = 3072;     ///< MLP hidden size; default 4 * width
  double layer_norm_eps = 1e-5;  ///< LayerNorm epsilon; default 1e-5

  int64_t grid() const { return image_size / patch_size; }
  int64_t num_patches() const { return grid() * grid(); }
};

/// How the text tower pools its tokens into one feature.
enum class TextPooling {
  kArgmaxId,  ///< position of the largest id (OpenAI and HF CLIP; EOT 49407 is the largest id)
  kFirstEos,  ///< first position holding `eos_id` (SentencePiece vocabularies)
};

/// The CLIP text transformer.
struct TextConfig {
  int64_t vocab_size = 49408;     ///< rows of the token embedding; default 49408 (CLIP BPE)
  int64_t width = 512;            ///< hidden size; default 512
  int64_t layers = 12;            ///< number of transformer blocks; default 12
  int64_t heads = 8;              ///< attention heads; default 8
  int64_t context_length = 77;    ///< trained positions; default 77
  int64_t mlp_dim = 2048;         ///< MLP hidden size; default 4 * width
  double layer_norm_eps = 1e-5;   ///< LayerNorm epsilon; default 1e-5
  TextPooling pooling = TextPooling::kArgmaxId;  ///< default argmax of ids, like CLIP
  int64_t eos_id = 49407;         ///< used by kFirstEos; default 49407
};

/// How the branch output and the CLIP tokens are combined (reference.md 0.3).
enum class FusionMode {
  kLearned,  ///< sigmoid(out_norm * balance1) / sigmoid(middle_norm * balance2) gates (pretraining)
  kAdd,      ///< plain addition (the official zero-shot configs)
};

/// Which token set the tube mask keeps in the branch (reference.md 6.4).
enum class MaskLayout {
  kTube,      ///< the paper's tube: the same spatial positions in every frame, aligned with CLIP tokens
  kOfficial,  ///< bit-compatible with the released code's (t l) mask applied to (l t) tokens
};

/// The Branching Temporal Adapter.
struct AdapterConfig {
  int64_t depth = 4;                ///< branch layers fed by the last `depth` CLIP layers; default 4
  FusionMode fusion = FusionMode::kLearned;  ///< default learned gates
  double out_norm = 1e4;            ///< scale inside the output gate's sigmoid; default 1e4
  double middle_norm = 1e2;         ///< scale inside the middle gate's sigmoid; default 1e2
  int64_t max_frames = 64;          ///< rows of the temporal embedding; default 64
  double drop_path = 0.1;           ///< drop-path rate of the last layer (linear from 0); default 0.1
  MaskLayout mask_layout = MaskLayout::kTube;  ///< default the paper's tube
  double mask_ratio = 0.7;          ///< fraction of spatial positions dropped in training; default 0.7
};

/// Which tokenizer family reads the vocabulary.
enum class TokenizerKind {
  kClipBpe,        ///< CLIP byte-level BPE (OpenAI .txt.gz, HF vocab.json); a `.model` vocab is SentencePiece
  kSentencePiece,  ///< a SentencePiece .model file
};

/// Which tokenizer turns captions into ids.
struct TokenizerConfig {
  TokenizerKind kind = TokenizerKind::kClipBpe;  ///< default clip_bpe
  std::string vocab;              ///< vocabulary file (bpe .txt.gz, vocab.json, or .model); default none
  int64_t context_length = 77;    ///< ids per caption after padding; default 77
  /// Truncation: "openai" (cut to 77 with EOT forced last) or "official:N" (then slice to N, may drop
  /// EOT, as the official BT-Adapter pipeline does); default "openai".
  std::string truncate = "openai";
  /// Id put before each caption: -1 takes the vocabulary's own (49406 `<|startoftext|>` for CLIP; the
  /// model's bos for SentencePiece, none if it has none), -2 puts none; default -1.
  int64_t bos_id = -1;
  /// Id put after each caption, same conventions (49407 `<|endoftext|>` for CLIP); default -1.
  int64_t eos_id = -1;
};

/// Everything needed to build a VideoTextModel.
struct ModelConfig {
  int64_t embed_dim = 512;   ///< joint embedding size (both projections' output); default 512
  VisionConfig vision;
  TextConfig text;
  AdapterConfig adapter;
  TokenizerConfig tokenizer;
};

/// The one list of ModelConfig's fields: calls `visit(key, access, doc)` for each, in the order they
/// are written, where `key` is the dotted path ("vision.width", also the JSON nesting and the training
/// config's `model.` key), `access` a stateless `[](auto& config) -> auto& { return config.member; }`
/// (for const and non-const configs) and `doc` the user-facing meaning. The JSON codec below and the
/// training config's registry (train/train_config.cpp) are both driven by it, so a field added here
/// reaches both; tests/config/model_config_fields_test.cpp fails if a struct member is left out.
template <typename Visit>
void for_each_model_field(Visit&& visit) {
#define BT_FIELD(member, doc) visit(#member, [](auto& c) -> auto& { return c.member; }, doc)
  BT_FIELD(embed_dim, "joint embedding size");
  BT_FIELD(vision.width, "vision hidden size");
  BT_FIELD(vision.layers, "vision transformer blocks");
  BT_FIELD(vision.heads, "vision attention heads");
  BT_FIELD(vision.patch_size, "patch side in pixels");
  BT_FIELD(vision.image_size, "input resolution (frames are resized/cropped to it)");
  BT_FIELD(vision.mlp_dim, "vision MLP hidden size");
  BT_FIELD(vision.layer_norm_eps, "vision LayerNorm epsilon");
  BT_FIELD(text.vocab_size, "token embedding rows");
  BT_FIELD(text.width, "text hidden size");
  BT_FIELD(text.layers, "text transformer blocks");
  BT_FIELD(text.heads, "text attention heads");
  BT_FIELD(text.context_length, "text positions the tower was trained with");
  BT_FIELD(text.mlp_dim, "text MLP hidden size");
  BT_FIELD(text.layer_norm_eps, "text LayerNorm epsilon");
  BT_FIELD(text.pooling, "text feature position: largest id (CLIP) or first EOS");
  BT_FIELD(text.eos_id, "EOS id used by first_eos pooling");
  BT_FIELD(adapter.depth, "branch layers, fed by the last `depth` CLIP layers");
  BT_FIELD(adapter.fusion, "branch/CLIP fusion: learned sigmoid gates or plain addition");
  BT_FIELD(adapter.out_norm, "scale inside the output gate's sigmoid");
  BT_FIELD(adapter.middle_norm, "scale inside the middle gate's sigmoid");
  BT_FIELD(adapter.max_frames, "rows of the temporal embedding");
  BT_FIELD(adapter.drop_path, "drop-path rate of the last branch layer");
  BT_FIELD(adapter.mask_layout, "tube mask: the paper's tube, or the released code's token order");
  BT_FIELD(adapter.mask_ratio, "fraction of spatial positions masked in the branch");
  BT_FIELD(tokenizer.kind, "tokenizer family (a .model vocabulary is always SentencePiece)");
  BT_FIELD(tokenizer.vocab, "vocabulary file ('' = the one beside the CLIP weights)");
  BT_FIELD(tokenizer.context_length, "ids per caption after padding");
  BT_FIELD(tokenizer.truncate, "'openai' or 'official:N' (cut to N after tokenizing, may drop EOT)");
  BT_FIELD(tokenizer.bos_id, "id before each caption: -1 the vocabulary's own, -2 none");
  BT_FIELD(tokenizer.eos_id, "id after each caption: -1 the vocabulary's own, -2 none");
#undef BT_FIELD
}

/// Serialises a config to JSON text (every field, stable key names).
std::string model_config_to_json(const ModelConfig& config);

/// Parses JSON written by model_config_to_json. Unknown keys and wrong types are errors naming the key;
/// missing keys keep their defaults.
ModelConfig model_config_from_json(const std::string& json_text);

/// Checks internal consistency (positive sizes, width divisible by heads, image divisible by patch,
/// 1 <= depth <= vision layers, 0 <= mask_ratio < 1); throws c10::Error naming the bad field.
void validate(const ModelConfig& config);

template <>
struct EnumNames<FusionMode> {
  static constexpr const char* kWhat = "fusion";
  static constexpr std::array<std::pair<FusionMode, const char*>, 2> kNames{{
      {FusionMode::kLearned, "learned"},
      {FusionMode::kAdd, "add"}}};
};

template <>
struct EnumNames<MaskLayout> {
  static constexpr const char* kWhat = "mask layout";
  static constexpr std::array<std::pair<MaskLayout, const char*>, 2> kNames{{
      {MaskLayout::kTube, "tube"},
      {MaskLayout::kOfficial, "official"}}};
};

template <>
struct EnumNames<TextPooling> {
  static constexpr const char* kWhat = "text pooling";
  static constexpr std::array<std::pair<TextPooling, const char*>, 2> kNames{{
      {TextPooling::kArgmaxId, "argmax_id"},
      {TextPooling::kFirstEos, "first_eos"}}};
};

template <>
struct EnumNames<TokenizerKind> {
  static constexpr const char* kWhat = "tokenizer kind";
  static constexpr std::array<std::pair<TokenizerKind, const char*>, 2> kNames{{
      {TokenizerKind::kClipBpe, "clip_bpe"},
      {TokenizerKind::kSentencePiece, "sentencepiece"}}};
};

}  // namespace btadapter
