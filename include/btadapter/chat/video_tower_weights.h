#pragma once
/// Loading the conversation model's vision side: the CLIP vision tower plus the BT-Adapter weights
/// into a chat::VideoTower, and the mm_projector.
///
/// CLIP (`clip_path`): a Hugging Face `CLIPVisionModel` / `CLIPModel` file (`vision_model.*` names;
/// safetensors or `pytorch_model.bin`), or a folder holding `model.safetensors` or `pytorch_model.bin`;
/// any naming io/weight_naming.h knows works (OpenAI `.pt` too). Text-tower keys, `position_ids`,
/// `logit_scale`, `post_layernorm.*`, `visual_projection.*` and CLIP layer L-1 are not needed (quirk 4)
/// and are skipped.
///
/// Adapter (`adapter_path`): the released `sft_btadapter_weight.bin` (`model.vision_tower.` prefix), an
/// official pretraining checkpoint (`backbone.` prefix, legacy `timesFPN` -> `btadapter`, an mmengine
/// "state_dict" entry), or a safetensors file of either. The prefixes are removed key by key (the
/// official loader tests only the first key, bt:375-387). As in the official `load_state_dict`, CLIP
/// keys in the adapter file (a pretraining checkpoint's `backbone.layers.*`) replace the CLIP file's;
/// keys outside `backbone.` of a pretraining checkpoint (text tower, heads) and adapter layer 3 and
/// `balance1` (never reach the LLM) are skipped. An absent `balance2` is zeros, the official init
/// (quirk 5: the released file has none, so the gate is sigmoid(0) = 0.5).
///
/// Strict where the official loader is not (quirk 6): every missing key the computation needs, every
/// unexpected key and every shape mismatch is listed in ONE c10::Error, each with the file it concerns.
///
/// Options inferred from shapes: width, patch and image size (patch_embedding, position_embedding),
/// layers (count of layers.{i}), mlp_dim, time_embed_rows (btadapter_time_embed rows). Heads do not show
/// in shapes: VideoTowerLoadOptions::heads, else `config.json` next to the CLIP file (HF
/// `CLIPVisionConfig` with model_type clip_vision_model, `CLIPConfig`'s vision_config, or the fixtures'
/// `vision_tower.clip`), else width / 64 (OpenAI's rule; ViT-L/14: 16). The config also gives
/// layer_norm_eps, and a hidden_act other than quick_gelu is refused.
///
/// Usage:
///   chat::VideoTower tower = chat::load_video_tower("clip-vit-large-patch14", "sft_btadapter_weight.bin");
///   chat::Projector proj = chat::load_projector("sft_mm_projector.bin");
///   auto llm_in = proj.mm_projector(tower->video_tokens(frames));     // [P+1, D]
///
/// Thread safety: free functions without shared state.

#include "btadapter/chat/video_tower.h"

#include <torch/nn/modules/linear.h>

#include <string>

namespace btadapter::chat {

struct VideoTowerLoadOptions {
  /// Attention heads; default 0: config.json next to the CLIP file, else width / 64.
  TORCH_ARG(int64_t, heads) = 0;
  /// Frame-count rule of the tower; default kOfficial.
  TORCH_ARG(FrameRule, frame_rule) = FrameRule::kOfficial;
  /// Drop-path base rate (training mode only); default 0.
  TORCH_ARG(double, drop_path) = 0.0;
};

/// The weight file `clip_path` names: itself, or a folder's model.safetensors (else pytorch_model.bin).
/// Throws naming a folder that has neither.
std::string clip_weight_file(const std::string& clip_path);

/// The options that `clip_path` and `adapter_path` imply (shapes, config.json, `options`), without
/// loading the weights into a module. Errors name the file.
VideoTowerOptions infer_video_tower_options(const std::string& clip_path, const std::string& adapter_path,
                                            const VideoTowerLoadOptions& options = {});

/// Builds the tower the weights imply and loads them (strict, see above). The tower is in eval mode.
VideoTower load_video_tower(const std::string& clip_path, const std::string& adapter_path,
                            const VideoTowerLoadOptions& options = {});

/// The projector side of the conversation model.
struct Projector {
  /// Linear(W, D) from `model.mm_projector.{weight,bias}`.
  torch::nn::Linear mm_projector{nullptr};
  /// `model.embed_tokens.weight` [V, D] when the file carries it (the sft projector file does, and it
  /// replaces the LLM's whole embedding table at load time, quirk 13); undefined otherwise.
  torch::Tensor embed_tokens;
};

/// Reads `sft_mm_projector.bin`-style files (safetensors or torch.save; `model.` prefix optional).
/// Any other key, or a missing weight/bias, is one c10::Error naming the file.
Projector load_projector(const std::string& path);

}  // namespace btadapter::chat
