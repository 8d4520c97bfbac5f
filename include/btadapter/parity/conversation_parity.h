#pragma once
/// Numerical parity of the conversation side (BT-Adapter tokens into a LLaMA, Video-ChatGPT / LLaVA v1)
/// against a fixture folder computed with the official `llava_base/bt_adapter` code (format:
/// tests/fixtures/conversation/README.md): `config.json`, `vision_tower_clip.safetensors`,
/// `btadapter.safetensors`, `mm_projector.safetensors`, `llama.safetensors`, `inputs.safetensors`,
/// `expected.safetensors`.
///
/// run_conversation_parity() loads the four weight files through the library's own loaders
/// (chat::load_video_tower, chat::load_projector, llm::load_llama), runs every path end to end and
/// checks each tensor of expected.safetensors with the group config.json `files` gives it
/// (forward / llm / loss / grad: |a - e| <= atol + rtol |e| + rtol_of_max max|e|; exact: equal):
/// - inf.* and long.*: the inference tower on `inf.frames` / `long.frames` (every intermediate, the
///   video tokens, the projector output);
/// - train.*: the training build on `train.features`, the projector, the splice, the LLM's logits, the
///   loss on `train.labels` and the gradient of every official trainable parameter;
/// - llm.*: the prompt `inf.input_ids` with OUR projected video tokens spliced in: hidden states,
///   logits, the KV cache after the prefill, and the greedy continuation with the cache;
/// - frames.seq_index.*: the official frame indices for config.json `frame_sampling`'s cases.
/// An expected tensor the checker cannot produce is a failure, never a skip.
///
/// Thread safety: independent calls are safe (each loads its own models).

#include "btadapter/parity/model_parity.h"

#include <string>

namespace btadapter {

/// Runs every check of the conversation fixture in `dir`. Errors in the folder (a missing file, bad
/// config.json) throw c10::Error naming the file.
ParityReport run_conversation_parity(const std::string& dir);

}  // namespace btadapter
