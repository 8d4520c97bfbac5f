#pragma once
/// The one model configuration that crosses the whole library: CLIP towers, the BT-Adapter branch and
/// the tokenizer. It is stored (as JSON) in every checkpoint and export, so tools load a model from one
/// file without the training YAML.
///
/// Sizes can be given by hand or inferred from weights (see btadapter/io/config_inference.h).

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

/// Which tokenizer turns captions into ids.
struct TokenizerConfig {
  std::string kind = "clip_bpe";  ///< "clip_bpe" or "sentencepiece"; default clip_bpe
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

/// Serialises a config to JSON text (every field, stable key names).
std::string model_config_to_json(const ModelConfig& config);

/// Parses JSON written by model_config_to_json. Unknown keys and wrong types are errors naming the key;
/// missing keys keep their defaults.
ModelConfig model_config_from_json(const std::string& json_text);

/// Checks internal consistency (positive sizes, width divisible by heads, image divisible by patch,
/// 1 <= depth <= vision layers, 0 <= mask_ratio < 1); throws c10::Error naming the bad field.
void validate(const ModelConfig& config);

const char* to_string(FusionMode mode);
const char* to_string(MaskLayout layout);
const char* to_string(TextPooling pooling);
FusionMode fusion_mode_from_string(const std::string& name);
MaskLayout mask_layout_from_string(const std::string& name);
TextPooling text_pooling_from_string(const std::string& name);

}  // namespace btadapter
