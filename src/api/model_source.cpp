#include "btadapter/api/model_source.h"

#include "btadapter/io/config_inference.h"
#include "btadapter/io/model_weights.h"
#include "btadapter/io/state_dict.h"

#include <torch/torch.h>

#include <sstream>

namespace btadapter::api {
namespace {

constexpr const char* kBalance1 = "backbone.balance1";
constexpr const char* kBalance2 = "backbone.balance2";

std::string describe(const io::ModelWeights& w, const ModelConfig& config, bool merged) {
  std::ostringstream out;
  if (w.stored) {
    out << "btadapter model file";
  } else {
    out << io::to_string(w.naming) << " weights (" << io::to_string(w.format) << ")";
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
    if (fusion == "add") {
      // The official zero-shot configs build the branch without gates and load with strict=False.
      tensors.erase(kBalance1);
      tensors.erase(kBalance2);
      config.adapter.fusion = FusionMode::kAdd;
    } else if (fusion == "learned") {
      TORCH_CHECK(tensors.count(kBalance1) > 0 && tensors.count(kBalance2) > 0, where, ": fusion 'learned' needs ",
                  kBalance1, " and ", kBalance2, ", which the weights do not hold");
      config.adapter.fusion = FusionMode::kLearned;
    } else {
      config.adapter.fusion = io::inferred_fusion(tensors);
    }
  }
  if (!options.truncate().empty()) config.tokenizer.truncate = options.truncate();
  validate(config);
}

ModelSource read_model_source(const std::string& path, const LoadOptions& options) {
  ModelConfig base;
  base.adapter.depth = 0;  // weights without a branch are the frozen-CLIP baseline
  // Views: build_video_text_model copies the weights into the module, and the views go with `source`.
  io::ModelWeights w = io::read_model_weights(path, io::ReadModelWeightsOptions()
                                                        .reading(io::TensorReading::kMappedViews)
                                                        .adapter(options.adapter())
                                                        .vision_heads(options.vision_heads())
                                                        .text_heads(options.text_heads())
                                                        .verify_checksum(options.verify_checksum())
                                                        .base(base));
  ModelSource source;
  source.config = w.config;
  if (!w.stored) source.config.tokenizer.context_length = source.config.text.context_length;
  apply_overrides(source.config, w.tensors, options, path);
  source.description = describe(w, source.config, !options.adapter().empty());
  source.tensors = std::move(w.tensors);
  source.metadata = std::move(w.metadata);
  return source;
}

VideoTextModel build_video_text_model(const ModelConfig& config, const io::TensorMap& tensors) {
  VideoTextModel model(config);
  io::load_state_dict(*model, tensors, io::LoadStateDictOptions().allow_missing_prefixes({"extra_proj."}));
  model->eval();
  return model;
}

}  // namespace btadapter::api
