#include "btadapter/train/model_setup.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "btadapter/io/model_weights.h"
#include "btadapter/io/state_dict.h"
#include "btadapter/io/weight_naming.h"

namespace btadapter::train {
namespace fs = std::filesystem;
namespace {

bool holds_adapter(const io::TensorMap& weights) {
  for (const auto& item : weights) {
    if (io::is_adapter_key(item.first)) return true;
  }
  return false;
}

std::string millions(int64_t n) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2fM", static_cast<double>(n) / 1e6);
  return buffer;
}

std::string describe(const VideoTextModel& model, const std::string& source, const std::string& branch) {
  const auto& c = model->config();
  int64_t total = 0, trainable = 0;
  for (const auto& p : model->parameters()) {
    total += p.numel();
    if (p.requires_grad()) trainable += p.numel();
  }
  std::ostringstream out;
  out << source << " (vision " << c.vision.width << "x" << c.vision.layers << ", patch " << c.vision.patch_size
      << ", " << c.vision.image_size << " px; text " << c.text.width << "x" << c.text.layers << "; embed "
      << c.embed_dim << "); adapter depth " << c.adapter.depth << branch << "; CLIP "
      << (model->backbone->clip_trainable() ? "trainable" : "frozen") << "; " << millions(trainable)
      << " trainable of " << millions(total) << " parameters";
  return out.str();
}

}  // namespace

std::string resolve_weights_file(const std::string& path) {
  if (!fs::is_directory(path)) return path;
  for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
    const fs::path candidate = fs::path(path) / name;
    if (fs::is_regular_file(candidate)) return candidate.string();
  }
  TORCH_CHECK(false, "model.clip: folder '", path, "' holds neither model.safetensors nor pytorch_model.bin");
}

BuiltModel build_pretrain_model(const ModelSection& section) {
  BuiltModel built;
  std::string source, branch;
  if (section.random_clip) {
    TORCH_CHECK(section.clip.empty(), "model.random_clip is true but model.clip is set ('", section.clip,
                "'): choose one");
    built.model = VideoTextModel(section.config);
    built.model->init_branch_from_clip();
    source = "random CLIP";
    branch = section.config.adapter.depth > 0 ? ", fresh init" : "";
  } else {
    TORCH_CHECK(!section.clip.empty(), "model.clip is not set: give CLIP weights (--set model.clip=PATH) or "
                "set model.random_clip: true");
    TORCH_CHECK(fs::exists(section.clip), "model.clip: no such file or folder: '", section.clip, "'");
    const std::string file = resolve_weights_file(section.clip);
    // A stored config gives the tower shapes; the run's own config everything else.
    const io::ModelWeights w =
        io::read_model_weights(file, io::ReadModelWeightsOptions().base(section.config).keep_base_settings(true));
    const io::TensorMap& weights = w.tensors;
    const ModelConfig& config = w.config;
    built.model = VideoTextModel(config);
    const bool adapter = holds_adapter(weights);
    auto options = io::LoadStateDictOptions();
    if (!adapter) options.allow_missing_prefixes(io::adapter_key_prefixes());
    io::load_state_dict(*built.model, weights, options);
    if (!adapter) built.model->init_branch_from_clip();
    source = "CLIP from " + file;
    branch = config.adapter.depth == 0 ? "" : adapter ? ", loaded from the same file" : ", fresh init";
  }
  built.model->set_clip_trainable(section.train_clip);
  built.model->set_gradient_checkpointing(section.gradient_checkpointing);
  built.description = describe(built.model, source, branch);
  return built;
}

TokenizerConfig resolve_tokenizer_config(const ModelSection& section) {
  TokenizerConfig config = section.config.tokenizer;
  config.vocab = io::resolve_vocab(config.vocab, "", section.clip,
                                   "model.tokenizer.vocab is not set: set it (e.g. bpe_simple_vocab_16e6.txt.gz) or "
                                   "give model.clip as an HF CLIP folder with vocab.json");
  return config;
}

}  // namespace btadapter::train
