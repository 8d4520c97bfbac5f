#pragma once
// A tiny ModelConfig for fast model tests (4 patches of 4x4 pixels, 3 CLIP layers).
#include "btadapter/config/model_config.h"

namespace btadapter::testing {

inline ModelConfig tiny_config(int64_t depth = 2, FusionMode fusion = FusionMode::kLearned) {
  ModelConfig c;
  c.embed_dim = 6;
  c.vision.width = 8;
  c.vision.layers = 3;
  c.vision.heads = 2;
  c.vision.patch_size = 4;
  c.vision.image_size = 8;
  c.vision.mlp_dim = 16;
  c.text.vocab_size = 50;
  c.text.width = 4;
  c.text.layers = 2;
  c.text.heads = 2;
  c.text.context_length = 7;
  c.text.mlp_dim = 8;
  c.text.eos_id = 49;
  c.adapter.depth = depth;
  c.adapter.fusion = fusion;
  c.adapter.max_frames = 8;
  c.adapter.drop_path = 0.0;
  return c;
}

}  // namespace btadapter::testing
