#include "btadapter/io/model_weights.h"

#include "btadapter/io/config_inference.h"
#include "btadapter/io/model_file.h"

#include <c10/util/Exception.h>

#include <filesystem>
#include <vector>

namespace btadapter::io {
namespace fs = std::filesystem;
namespace {

void check_readable(const std::string& path, const char* what) {
  TORCH_CHECK(!path.empty(), "expected a ", what, " path, got an empty string");
  TORCH_CHECK(fs::exists(path), what, " '", path, "' does not exist");
  TORCH_CHECK(fs::is_regular_file(path), what, " '", path, "' is not a file");
}

// Width of a tensor's `dim`, or -1 when the tensor is absent.
int64_t size_of(const TensorMap& weights, const std::string& key, int64_t dim) {
  auto it = weights.find(key);
  return it == weights.end() ? -1 : it->second.size(dim);
}

// Heads do not show in shapes: see the header for the rule.
InferConfigOptions infer_options(const TensorMap& tensors, const ReadModelWeightsOptions& options,
                                 const std::optional<ModelConfig>& stored) {
  ModelConfig base = options.base();
  if (stored && options.keep_base_settings()) {
    base.vision = stored->vision;
    base.text = stored->text;
  } else if (stored) {
    base = *stored;
  }
  InferConfigOptions infer;
  infer.base(base);
  if (stored) return infer.vision_heads(base.vision.heads).text_heads(base.text.heads);
  if (options.vision_heads() > 0) {
    infer.vision_heads(options.vision_heads());
  } else if (size_of(tensors, "backbone.patch_embedding.weight", 0) == base.vision.width) {
    infer.vision_heads(base.vision.heads);
  }
  if (options.text_heads() > 0) {
    infer.text_heads(options.text_heads());
  } else if (size_of(tensors, "text_backbone.text_model.embeddings.token_embedding.weight", 1) == base.text.width) {
    infer.text_heads(base.text.heads);
  }
  return infer;
}

}  // namespace

ModelWeights read_model_weights(const std::string& path, const ReadModelWeightsOptions& options) {
  check_readable(path, "model file");
  WeightsFile file = read_weights_file(path, options.reading());
  ModelWeights w;
  w.format = file.format;
  w.metadata = std::move(file.metadata);
  // read_model_config checks the format version and the stored config.
  if (w.metadata.count(kModelConfigKey) > 0) {
    w.stored = read_model_config(path);
    if (options.verify_checksum()) verify_tensors_sha256(path, w.metadata, file.tensors);
  }
  try {
    w.tensors = to_canonical(file.tensors);
    w.naming = detect_naming(file.tensors);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "model file '", path, "': ", e.what_without_backtrace());
  }
  if (!options.adapter().empty()) {
    check_readable(options.adapter(), "adapter file");
    for (auto& [name, tensor] : read_canonical_weights(options.adapter())) {
      TORCH_CHECK(w.tensors.emplace(name, tensor).second, "adapter file '", options.adapter(), "' and model file '",
                  path, "' both hold '", name, "'");
    }
  }
  try {
    w.config = infer_model_config(w.tensors, infer_options(w.tensors, options, w.stored));
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "model file '", path, "': ", e.what_without_backtrace());
  }
  return w;
}

std::string resolve_vocab(const std::string& given, const std::string& stored, const std::string& model_path,
                          const std::string& hint) {
  if (!given.empty()) {
    TORCH_CHECK(fs::exists(given), "tokenizer vocabulary '", given, "' does not exist");
    return given;
  }
  const fs::path model(model_path);
  if (stored.empty()) {
    const fs::path folder = model_path.empty() ? fs::path() : fs::is_directory(model) ? model : model.parent_path();
    const fs::path dir = folder.empty() ? fs::path(".") : folder;
    if (!model_path.empty() && (fs::is_regular_file(dir / "vocab.json") ||
                                fs::is_regular_file(dir / "bpe_simple_vocab_16e6.txt.gz"))) {
      return dir.string();
    }
    TORCH_CHECK(false, "model '", model_path, "' names no tokenizer vocabulary", model_path.empty() ? "" :
                " and its folder holds neither vocab.json nor bpe_simple_vocab_16e6.txt.gz", ": ", hint);
  }
  std::vector<fs::path> candidates{stored};
  if (!model_path.empty()) {
    const fs::path dir = model.parent_path();
    if (fs::path(stored).is_relative()) candidates.push_back(dir / stored);
    candidates.push_back(dir / fs::path(stored).filename());
  }
  std::string tried;
  for (const auto& candidate : candidates) {
    if (fs::exists(candidate)) return candidate.string();
    tried += (tried.empty() ? "'" : ", '") + candidate.string() + "'";
  }
  TORCH_CHECK(false, "tokenizer vocabulary of model '", model_path, "' not found (tried ", tried, "): ", hint);
}

}  // namespace btadapter::io
