#include "btadapter/api/model_export.h"

#include "btadapter/api/golden.h"
#include "btadapter/io/model_file.h"
#include "btadapter/io/sha256.h"

#include <torch/torch.h>

#include <filesystem>

namespace btadapter::api {
namespace {

/// The weights as they will be stored: CPU copies, floating-point ones in `dtype`.
io::TensorMap stored_weights(const Model& model, torch::ScalarType dtype) {
  io::TensorMap out;
  for (const auto& [name, tensor] : model.weights()) {
    auto cpu = tensor.to(torch::kCPU);
    out.emplace(name, at::isFloatingType(cpu.scalar_type()) ? cpu.to(dtype) : cpu.clone());
  }
  return out;
}

/// Golden embeddings of the weights as stored: computed by `model` itself when nothing is rounded,
/// otherwise by a float32 CPU copy holding the rounded weights.
GoldenEmbeddings golden_of_stored(const Model& model, const ModelConfig& config, const io::TensorMap& stored,
                                  torch::ScalarType dtype) {
  if (dtype == torch::kFloat && model.dtype() == torch::kFloat) return compute_golden(model);
  io::TensorMap widened;
  for (const auto& [name, tensor] : stored) {
    widened.emplace(name, at::isFloatingType(tensor.scalar_type()) ? tensor.to(torch::kFloat) : tensor);
  }
  const auto copy = Model::from_weights(config, widened, LoadOptions().fusion("auto"));
  return compute_golden(*copy);
}

}  // namespace

ExportSummary export_model(const Model& model, const std::string& path, const ExportOptions& options) {
  const auto dtype = options.dtype();
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kHalf || dtype == torch::kBFloat16, "cannot export '", path,
              "': expected dtype float32, float16 or bfloat16, got ", dtype);
  for (const auto& [key, value] : options.metadata()) {
    TORCH_CHECK(key.rfind("btadapter.", 0) != 0, "cannot export '", path, "': metadata key '", key,
                "' is reserved (btadapter.*)");
  }
  ModelConfig config = model.config();
  config.tokenizer.vocab = std::filesystem::absolute(model.vocab_path()).lexically_normal().string();

  io::Metadata metadata = options.metadata();
  metadata["format"] = "pt";
  metadata["btadapter.weights_dtype"] = dtype_name(dtype);
  metadata["btadapter.source"] = model.path().empty() ? "in-memory weights" : model.path();
  metadata["btadapter.tokenizer.vocab_file"] = std::filesystem::path(model.vocab_path()).filename().string();
  if (std::filesystem::is_regular_file(model.vocab_path())) {
    metadata["btadapter.tokenizer.vocab_sha256"] = io::sha256_file(model.vocab_path());
  }

  const io::TensorMap stored = stored_weights(model, dtype);
  ExportSummary summary;
  if (options.golden()) {
    metadata[kGoldenKey] = golden_to_json(golden_of_stored(model, config, stored, dtype));
    summary.golden = true;
  }
  io::save_model_file(path, config, stored, metadata);
  summary.tensors = static_cast<int64_t>(stored.size());
  for (const auto& [name, tensor] : stored) summary.parameters += tensor.numel();
  return summary;
}

}  // namespace btadapter::api
