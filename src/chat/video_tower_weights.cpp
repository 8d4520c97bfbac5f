#include "btadapter/chat/video_tower_weights.h"

#include "btadapter/io/state_dict.h"
#include "btadapter/io/weight_naming.h"
#include "btadapter/io/weights_file.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace btadapter::chat {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSftPrefix = "model.vision_tower.";
constexpr const char* kBackbone = "backbone.";

bool has_prefix(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// One tensor under its tower name, with where it came from (for error messages).
struct SourcedTensor {
  torch::Tensor tensor;
  std::string file;
  std::string key;  // as stored in the file
};
using SourcedMap = std::map<std::string, SourcedTensor>;

// The file's tensors under tower names (canonical names less `backbone.`); keys outside the backbone
// (text tower, heads) are skipped, unrecognised ones appended to `problems`.
SourcedMap read_tower_tensors(const std::string& file, bool strip_sft_prefix, std::vector<std::string>& problems) {
  const io::WeightsFile ckpt = io::read_weights_file(file, io::TensorReading::kMappedViews);
  SourcedMap out;
  for (const auto& [key, tensor] : ckpt.tensors) {
    std::string k = key;
    if (strip_sft_prefix && has_prefix(k, kSftPrefix)) k.erase(0, std::strlen(kSftPrefix));
    if (k == "logit_scale" || (k.size() >= 12 && k.compare(k.size() - 12, 12, "position_ids") == 0)) continue;
    if (!io::naming_of_key(k)) {
      problems.push_back("unexpected in '" + file + "': " + key);
      continue;
    }
    for (const auto& [canonical, t] : io::to_canonical(io::TensorMap{{k, tensor}})) {
      if (!has_prefix(canonical, kBackbone)) continue;
      const std::string name = canonical.substr(std::strlen(kBackbone));
      if (out.count(name)) problems.push_back("duplicate in '" + file + "': " + key + " and " + out[name].key);
      out[name] = {t, file, key};
    }
  }
  return out;
}

// Index i of names "layers.{i}.*", or -1.
int64_t clip_layer_index(const std::string& name, const std::string& group = "layers.") {
  if (!has_prefix(name, group)) return -1;
  const size_t dot = name.find('.', group.size());
  if (dot == std::string::npos || dot == group.size()) return -1;
  const std::string digits = name.substr(group.size(), dot - group.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

// Weights a file may hold that never reach the LLM: CLIP layer L-1, post_layernorm, the projection,
// adapter layer 3 and balance1 (quirk 4).
bool unused_by_tower(const std::string& name, int64_t layers) {
  if (clip_layer_index(name) == layers - 1 || has_prefix(name, "post_layernorm.") ||
      has_prefix(name, "visual_projection.") || name == "balance1") {
    return true;
  }
  for (const char* group : {"btadapter_S_layers.", "btadapter_T_layers."}) {
    if (clip_layer_index(name, group) >= kChatAdapterLayers) return true;
  }
  return false;
}

// What config.json next to the CLIP weights says (HF CLIPVisionConfig, CLIPConfig, or the fixtures').
struct ClipConfigHints {
  std::optional<int64_t> heads, width;
  std::optional<double> layer_norm_eps;
  std::optional<std::string> activation;
  std::string file;
};

ClipConfigHints read_clip_config(const std::string& clip_path) {
  ClipConfigHints hints;
  const fs::path dir = fs::is_directory(clip_path) ? fs::path(clip_path) : fs::path(clip_path).parent_path();
  const fs::path file = dir / "config.json";
  if (!fs::exists(file)) return hints;
  std::ifstream in(file);
  const auto root = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) return hints;
  const nlohmann::json* vision = nullptr;
  if (root.value("model_type", "") == "clip_vision_model") {
    vision = &root;
  } else if (root.contains("vision_config") && root["vision_config"].is_object()) {
    vision = &root["vision_config"];
  } else if (root.contains("vision_tower") && root["vision_tower"].is_object() &&
             root["vision_tower"].contains("clip") && root["vision_tower"]["clip"].is_object()) {
    vision = &root["vision_tower"]["clip"];
  }
  if (!vision) return hints;
  hints.file = file.string();
  if (vision->contains("num_attention_heads")) hints.heads = (*vision)["num_attention_heads"].get<int64_t>();
  if (vision->contains("hidden_size")) hints.width = (*vision)["hidden_size"].get<int64_t>();
  if (vision->contains("layer_norm_eps")) hints.layer_norm_eps = (*vision)["layer_norm_eps"].get<double>();
  if (vision->contains("hidden_act")) hints.activation = (*vision)["hidden_act"].get<std::string>();
  return hints;
}

const torch::Tensor& required(const SourcedMap& clip, const std::string& name, const std::string& file) {
  auto it = clip.find(name);
  TORCH_CHECK(it != clip.end(), "load_video_tower: CLIP weights '", file, "' have no ", name,
              " (needed to size the tower)");
  return it->second.tensor;
}

VideoTowerOptions infer_options(const SourcedMap& clip, const SourcedMap& adapter, const std::string& clip_file,
                                const ClipConfigHints& hints, const VideoTowerLoadOptions& load) {
  const auto& patch = required(clip, "patch_embedding.weight", clip_file);
  const auto& pos = required(clip, "position_embedding.weight", clip_file);
  const auto& fc1 = required(clip, "layers.0.mlp.fc1.weight", clip_file);
  TORCH_CHECK(patch.dim() == 4 && patch.size(1) == 3 && patch.size(2) == patch.size(3) && pos.dim() == 2,
              "load_video_tower: '", clip_file, "': expected patch_embedding [W, 3, p, p] and a 2-d position table, got ",
              patch.sizes(), " and ", pos.sizes());
  const int64_t grid = std::llround(std::sqrt(static_cast<double>(pos.size(0) - 1)));
  TORCH_CHECK(grid * grid + 1 == pos.size(0), "load_video_tower: '", clip_file,
              "': expected 1 + a square number of position rows, got ", pos.size(0));
  int64_t layers = 0;
  for (const auto& item : clip) layers = std::max(layers, clip_layer_index(item.first) + 1);
  const int64_t width = patch.size(0);
  if (hints.width) {
    TORCH_CHECK(*hints.width == width, "load_video_tower: '", hints.file, "' says hidden_size ", *hints.width,
                ", the weights are ", width, " wide");
  }
  if (hints.activation) {
    TORCH_CHECK(*hints.activation == "quick_gelu", "load_video_tower: '", hints.file,
                "': expected hidden_act quick_gelu (CLIP), got ", *hints.activation);
  }
  int64_t heads = load.heads();
  if (heads <= 0) heads = hints.heads.value_or(std::max<int64_t>(1, width / 64));
  auto time = adapter.find("btadapter_time_embed.weight");
  return VideoTowerOptions()
      .width(width)
      .layers(layers)
      .heads(heads)
      .mlp_dim(fc1.size(0))
      .patch_size(patch.size(3))
      .image_size(patch.size(3) * grid)
      .layer_norm_eps(hints.layer_norm_eps.value_or(1e-5))
      .time_embed_rows(time != adapter.end() && time->second.tensor.dim() == 2 ? time->second.tensor.size(0) : 64)
      .frame_rule(load.frame_rule())
      .drop_path(load.drop_path());
}

struct ReadWeights {
  std::string clip_file, adapter_file;
  SourcedMap clip, adapter;
  std::vector<std::string> problems;
  VideoTowerOptions options;
};

ReadWeights read_weights(const std::string& clip_path, const std::string& adapter_path,
                         const VideoTowerLoadOptions& load) {
  ReadWeights r;
  r.clip_file = clip_weight_file(clip_path);
  r.adapter_file = adapter_path;
  r.clip = read_tower_tensors(r.clip_file, /*strip_sft_prefix=*/false, r.problems);
  r.adapter = read_tower_tensors(r.adapter_file, /*strip_sft_prefix=*/true, r.problems);
  r.options = infer_options(r.clip, r.adapter, r.clip_file, read_clip_config(clip_path), load);
  return r;
}

std::string sizes_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

std::string clip_weight_file(const std::string& clip_path) {
  if (!fs::is_directory(clip_path)) return clip_path;
  for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
    if (fs::exists(fs::path(clip_path) / name)) return (fs::path(clip_path) / name).string();
  }
  TORCH_CHECK(false, "load_video_tower: folder '", clip_path, "' holds neither model.safetensors nor pytorch_model.bin");
}

VideoTowerOptions infer_video_tower_options(const std::string& clip_path, const std::string& adapter_path,
                                            const VideoTowerLoadOptions& options) {
  return read_weights(clip_path, adapter_path, options).options;
}

VideoTower load_video_tower(const std::string& clip_path, const std::string& adapter_path,
                            const VideoTowerLoadOptions& options) {
  ReadWeights r = read_weights(clip_path, adapter_path, options);
  VideoTower tower(r.options);
  // The adapter file is loaded second, so its CLIP keys win (official load_state_dict order).
  SourcedMap merged = r.clip;
  for (auto& [name, item] : r.adapter) merged[name] = item;
  std::vector<std::string>& problems = r.problems;
  io::TensorMap tensors;
  const auto targets = tower->named_parameters();
  for (const auto& target : targets) {
    const std::string& name = target.key();
    auto it = merged.find(name);
    if (it == merged.end()) {
      if (name == "balance2") continue;  // absent = zeros, the official init (quirk 5)
      const bool branch = has_prefix(name, "btadapter");
      problems.push_back("missing in '" + (branch ? r.adapter_file : r.clip_file) + "': " + name);
    } else if (it->second.tensor.sizes() != target.value().sizes()) {
      problems.push_back("shape mismatch in '" + it->second.file + "': " + it->second.key + ": tower " +
                         sizes_text(target.value()) + ", file " + sizes_text(it->second.tensor));
    } else {
      tensors[name] = it->second.tensor;
    }
  }
  for (const auto& [name, item] : merged) {
    if (!targets.contains(name) && !unused_by_tower(name, r.options.layers())) {
      problems.push_back("unexpected in '" + item.file + "': " + item.key);
    }
  }
  if (!problems.empty()) {
    std::ostringstream msg;
    msg << "load_video_tower: the weights do not fit the tower (W " << r.options.width() << ", L "
        << r.options.layers() << ", P " << r.options.num_patches() << "), " << problems.size() << " problem(s):";
    for (const auto& p : problems) msg << "\n  " << p;
    TORCH_CHECK(false, msg.str());
  }
  io::load_state_dict(*tower, tensors, io::LoadStateDictOptions().allow_missing_prefixes({"balance2"}));
  tower->eval();
  return tower;
}

Projector load_projector(const std::string& path) {
  const io::WeightsFile ckpt = io::read_weights_file(path);
  std::map<std::string, torch::Tensor> found;
  std::vector<std::string> unexpected;
  for (const auto& [key, tensor] : ckpt.tensors) {
    const std::string k = has_prefix(key, "model.") ? key.substr(6) : key;
    if (k == "mm_projector.weight" || k == "mm_projector.bias" || k == "embed_tokens.weight") {
      found[k] = tensor;
    } else {
      unexpected.push_back(key);
    }
  }
  auto weight = found["mm_projector.weight"], bias = found["mm_projector.bias"];
  std::ostringstream problems;
  for (const auto& key : unexpected) problems << "\n  unexpected: " << key;
  if (!weight.defined()) problems << "\n  missing: model.mm_projector.weight";
  if (!bias.defined()) problems << "\n  missing: model.mm_projector.bias";
  if (weight.defined() && bias.defined() && (weight.dim() != 2 || bias.dim() != 1 || bias.size(0) != weight.size(0))) {
    problems << "\n  shape mismatch: model.mm_projector.weight " << weight.sizes() << " [D, W] and bias "
             << bias.sizes() << " [D]";
  }
  TORCH_CHECK(problems.str().empty(), "load_projector: '", path, "' is not an mm_projector file:", problems.str());
  Projector out;
  out.mm_projector = torch::nn::Linear(weight.size(1), weight.size(0));
  {
    torch::NoGradGuard no_grad;
    out.mm_projector->weight.copy_(weight);
    out.mm_projector->bias.copy_(bias);
  }
  out.embed_tokens = found.count("embed_tokens.weight") ? found["embed_tokens.weight"].to(torch::kFloat) : torch::Tensor();
  return out;
}

}  // namespace btadapter::chat
