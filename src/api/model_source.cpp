#include "btadapter/api/model_source.h"

#include "btadapter/io/config_inference.h"
#include "btadapter/io/model_file.h"
#include "btadapter/io/state_dict.h"
#include "btadapter/io/weight_naming.h"
#include "btadapter/io/weights_file.h"

#include <torch/torch.h>

#include <filesystem>
#include <sstream>

namespace btadapter::api {
namespace {

constexpr const char* kBalance1 = "backbone.balance1";
constexpr const char* kBalance2 = "backbone.balance2";

void check_readable(const std::string& path, const char* what) {
  TORCH_CHECK(!path.empty(), "expected a ", what, " path, got an empty string");
  TORCH_CHECK(std::filesystem::exists(path), what, " '", path, "' does not exist");
  TORCH_CHECK(std::filesystem::is_regular_file(path), what, " '", path, "' is not a file");
}

std::string describe(const io::WeightsFile& file, bool is_model_file, const ModelConfig& config, bool merged) {
  std::ostringstream out;
  if (is_model_file) {
    out << "btadapter model file";
  } else {
    out << io::to_string(io::detect_naming(file.tensors)) << " weights (" << io::to_string(file.format) << ")";
  }
  if (merged) out << " + adapter file";
  if (config.adapter.depth == 0) {
    out << ", no adapter (frozen CLIP, mean of frame embeddings)";
  } else {
    out << ", BT-Adapter depth " << config.adapter.depth << ", fusion " << to_string(config.adapter.fusion);
  }
  return out.str();
}

}  // namespace

void apply_overrides(ModelConfig& config, io::TensorMap& tensors, const LoadOptions& options,
                     const std::string& where) {
  const std::string& fusion = options.fusion();
  TORCH_CHECK(fusion == "auto" || fusion == "learned" || fusion == "add",
              "expected fusion 'auto', 'learned' or 'add', got '", fusion, "'");
  if (config.adapter.depth > 0) {
    const bool has_balance = tensors.count(kBalance1) > 0 && tensors.count(kBalance2) > 0;
    if (fusion == "add") {
      // The official zero-shot configs build the branch without gates and load with strict=False.
      tensors.erase(kBalance1);
      tensors.erase(kBalance2);
      config.adapter.fusion = FusionMode::kAdd;
    } else if (fusion == "learned") {
      TORCH_CHECK(has_balance, where, ": fusion 'learned' needs ", kBalance1, " and ", kBalance2,
                  ", which the weights do not hold");
      config.adapter.fusion = FusionMode::kLearned;
    } else {
      config.adapter.fusion = has_balance ? FusionMode::kLearned : FusionMode::kAdd;
    }
  }
  if (!options.truncate().empty()) config.tokenizer.truncate = options.truncate();
  validate(config);
}

ModelSource read_model_source(const std::string& path, const LoadOptions& options) {
  check_readable(path, "model file");
  // Views: build_video_text_model copies the weights into the module, and the views go with `source`.
  io::WeightsFile file = io::read_weights_file(path, io::TensorReading::kMappedViews);
  const bool is_model_file = file.metadata.count(io::kModelConfigKey) > 0;

  ModelConfig base;
  io::InferConfigOptions infer;
  if (is_model_file) {
    base = io::read_model_config(path);  // checks the format version and the stored config
    infer.vision_heads(base.vision.heads).text_heads(base.text.heads);
  } else {
    base.adapter.depth = 0;  // weights without a branch are the frozen-CLIP baseline
    infer.vision_heads(options.vision_heads()).text_heads(options.text_heads());
  }

  ModelSource source;
  source.metadata = file.metadata;
  try {
    source.tensors = io::to_canonical(file.tensors);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "model file '", path, "': ", e.what_without_backtrace());
  }
  const bool merged = !options.adapter().empty();
  if (merged) {
    check_readable(options.adapter(), "adapter file");
    for (auto& [name, tensor] : io::read_canonical_weights(options.adapter())) {
      TORCH_CHECK(source.tensors.emplace(name, tensor).second, "adapter file '", options.adapter(),
                  "' and model file '", path, "' both hold '", name, "'");
    }
  }
  try {
    source.config = io::infer_model_config(source.tensors, infer.base(base));
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "model file '", path, "': ", e.what_without_backtrace());
  }
  if (!is_model_file) source.config.tokenizer.context_length = source.config.text.context_length;
  apply_overrides(source.config, source.tensors, options, path);
  source.description = describe(file, is_model_file, source.config, merged);
  return source;
}

VideoTextModel build_video_text_model(const ModelConfig& config, const io::TensorMap& tensors) {
  VideoTextModel model(config);
  io::load_state_dict(*model, tensors, io::LoadStateDictOptions().allow_missing_prefixes({"extra_proj."}));
  model->eval();
  return model;
}

}  // namespace btadapter::api
