#include "btadapter/io/config_inference.h"

#include <torch/torch.h>

#include <cmath>
#include <set>

namespace btadapter::io {
namespace {

constexpr const char* kVisionLayers = "backbone.layers.";
constexpr const char* kTextLayers = "text_backbone.text_model.encoder.layers.";
constexpr const char* kSpatialLayers = "backbone.btadapter_S_layers.";
constexpr const char* kTemporalLayers = "backbone.btadapter_T_layers.";

const torch::Tensor& require(const TensorMap& canonical, const std::string& key, int64_t dims) {
  auto it = canonical.find(key);
  TORCH_CHECK(it != canonical.end(), "cannot infer the model config: missing '", key,
              "' (the weights must use canonical names; see to_canonical)");
  TORCH_CHECK(it->second.dim() == dims, "cannot infer the model config: expected '", key, "' to be ", dims,
              "-d, got shape ", it->second.sizes());
  return it->second;
}

/// Number of blocks `prefix{i}.*`; the indices must be exactly 0..n-1.
int64_t count_layers(const TensorMap& canonical, const std::string& prefix) {
  std::set<int64_t> indices;
  for (auto it = canonical.lower_bound(prefix); it != canonical.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    const std::string rest = it->first.substr(prefix.size());
    size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    TORCH_CHECK(digits > 0 && digits < rest.size() && rest[digits] == '.',
                "cannot infer the model config: expected '", prefix, "<index>.*', got '", it->first, "'");
    indices.insert(std::stoll(rest.substr(0, digits)));
  }
  const int64_t n = static_cast<int64_t>(indices.size());
  TORCH_CHECK(indices.empty() || *indices.rbegin() == n - 1, "cannot infer the model config: layer indices under '",
              prefix, "' must be 0..", n - 1, ", got a largest index of ", indices.empty() ? -1 : *indices.rbegin());
  return n;
}

int64_t default_heads(int64_t width) { return std::max<int64_t>(1, width / 64); }

void infer_vision(const TensorMap& w, int64_t heads, VisionConfig& v) {
  const auto& patch = require(w, "backbone.patch_embedding.weight", 4);
  TORCH_CHECK(patch.size(1) == 3 && patch.size(2) == patch.size(3),
              "cannot infer the model config: expected backbone.patch_embedding.weight [W, 3, p, p], got ",
              patch.sizes());
  v.width = patch.size(0);
  v.patch_size = patch.size(3);
  const auto& position = require(w, "backbone.position_embedding.weight", 2);
  const int64_t patches = position.size(0) - 1;
  const auto grid = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(std::max<int64_t>(patches, 0)))));
  TORCH_CHECK(patches > 0 && grid * grid == patches && position.size(1) == v.width,
              "cannot infer the model config: expected backbone.position_embedding.weight [1 + grid^2, ", v.width,
              "], got ", position.sizes());
  v.image_size = grid * v.patch_size;
  v.layers = count_layers(w, kVisionLayers);
  v.mlp_dim = require(w, std::string(kVisionLayers) + "0.mlp.fc1.weight", 2).size(0);
  v.heads = heads > 0 ? heads : default_heads(v.width);
}

void infer_text(const TensorMap& w, int64_t heads, TextConfig& t) {
  const auto& tokens = require(w, "text_backbone.text_model.embeddings.token_embedding.weight", 2);
  t.vocab_size = tokens.size(0);
  t.width = tokens.size(1);
  t.context_length = require(w, "text_backbone.text_model.embeddings.position_embedding.weight", 2).size(0);
  t.layers = count_layers(w, kTextLayers);
  t.mlp_dim = require(w, std::string(kTextLayers) + "0.mlp.fc1.weight", 2).size(0);
  t.heads = heads > 0 ? heads : default_heads(t.width);
}

int64_t infer_embed_dim(const TensorMap& w, const ModelConfig& c) {
  const auto& visual = require(w, "backbone.visual_projection.weight", 2);
  const auto& text = require(w, "text_backbone.text_projection.weight", 2);
  TORCH_CHECK(visual.size(1) == c.vision.width && text.size(1) == c.text.width && visual.size(0) == text.size(0),
              "cannot infer the model config: expected backbone.visual_projection.weight [E, ", c.vision.width,
              "] and text_backbone.text_projection.weight [E, ", c.text.width, "], got ", visual.sizes(), " and ",
              text.sizes());
  return visual.size(0);
}

void infer_adapter(const TensorMap& w, int64_t width, AdapterConfig& a) {
  const int64_t spatial = count_layers(w, kSpatialLayers);
  const int64_t temporal = count_layers(w, kTemporalLayers);
  if (spatial == 0 && temporal == 0) return;  // CLIP-only weights: the base decides
  TORCH_CHECK(spatial == temporal, "cannot infer the model config: ", spatial, " btadapter_S_layers but ", temporal,
              " btadapter_T_layers");
  a.depth = spatial;
  a.fusion = inferred_fusion(w);
  const auto& time = require(w, "backbone.btadapter_time_embed.weight", 2);
  TORCH_CHECK(time.size(1) == width, "cannot infer the model config: expected backbone.btadapter_time_embed.weight "
              "[max_frames, ", width, "], got ", time.sizes());
  a.max_frames = time.size(0);
}

}  // namespace

ModelConfig infer_model_config(const TensorMap& canonical, const InferConfigOptions& options) {
  ModelConfig c = options.base();
  infer_vision(canonical, options.vision_heads(), c.vision);
  infer_text(canonical, options.text_heads(), c.text);
  c.embed_dim = infer_embed_dim(canonical, c);
  infer_adapter(canonical, c.vision.width, c.adapter);
  validate(c);
  return c;
}

FusionMode inferred_fusion(const TensorMap& canonical) {
  const bool balance1 = canonical.count("backbone.balance1") > 0;
  TORCH_CHECK(balance1 == (canonical.count("backbone.balance2") > 0),
              "cannot infer the model config: backbone.balance1 and backbone.balance2 must come together");
  return balance1 ? FusionMode::kLearned : FusionMode::kAdd;
}

}  // namespace btadapter::io
