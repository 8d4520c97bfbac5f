#include "btadapter/llm/hf_checkpoint.h"

#include "btadapter/io/weights_file.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace btadapter::llm {
namespace {

namespace fs = std::filesystem;

// Shard files of an index.json's weight_map, in name order; each must exist.
std::vector<std::string> shards_of_index(const fs::path& index) {
  std::ifstream in(index);
  TORCH_CHECK(in, "cannot open the weight index '", index.string(), "'");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    TORCH_CHECK(false, index.string(), ": invalid JSON (", e.what(), ")");
  }
  TORCH_CHECK(j.contains("weight_map") && j["weight_map"].is_object() && !j["weight_map"].empty(), index.string(),
              ": expected a non-empty object 'weight_map' {tensor name: shard file}");
  std::set<std::string> names;
  for (const auto& item : j["weight_map"].items()) {
    TORCH_CHECK(item.value().is_string(), index.string(), ": expected the shard of '", item.key(),
                "' to be a file name, got ", item.value().dump());
    names.insert(item.value().get<std::string>());
  }
  std::vector<std::string> shards;
  for (const auto& name : names) {
    const auto shard = index.parent_path() / name;
    TORCH_CHECK(fs::is_regular_file(shard), "the shard '", name, "' named in '", index.string(),
                "' is missing (looked for ", shard.string(), ")");
    shards.push_back(shard.string());
  }
  return shards;
}

std::string describe_list(const std::vector<std::string>& items, const char* what) {
  if (items.empty()) return "";
  std::ostringstream out;
  out << "\n  " << items.size() << " " << what << ":";
  for (const auto& item : items) out << "\n    " << item;
  return out.str();
}

bool skipped_buffer(const std::string& name) {
  const std::string suffix = "rotary_emb.inv_freq";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Copies every weight file into the module's parameters, one file at a time; strict about keys.
void copy_weights(LlamaForCausalLMImpl& model, const std::vector<std::string>& files) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : model.named_parameters()) targets.emplace(p.key(), p.value());
  std::set<std::string> loaded, present;
  std::vector<std::string> unexpected, mismatched, duplicated;
  torch::NoGradGuard no_grad;
  for (const auto& file : files) {
    const auto tensors = io::read_weights_file(file, io::TensorReading::kMappedViews).tensors;
    for (const auto& [name, tensor] : tensors) {
      if (skipped_buffer(name)) continue;
      const auto it = targets.find(name);
      if (it == targets.end()) {
        unexpected.push_back(name + " (" + file + ")");
      } else if (!present.insert(name).second) {
        duplicated.push_back(name + " (again in " + file + ")");
      } else if (it->second.sizes() != tensor.sizes()) {
        mismatched.push_back(name + ": model " + c10::str(it->second.sizes()) + ", " + file + " " +
                             c10::str(tensor.sizes()));
      } else {
        loaded.insert(name);
        it->second.copy_(tensor);
      }
    }
  }
  std::vector<std::string> missing;
  for (const auto& [name, target] : targets) {
    if (present.count(name) == 0) missing.push_back(name);
  }
  TORCH_CHECK(missing.empty() && unexpected.empty() && mismatched.empty() && duplicated.empty(),
              "load_llama: the weights in ", files.size() == 1 ? files[0] : c10::str(files.size(), " files"),
              " do not fit the model (", loaded.size(), " of ", targets.size(), " parameters match)",
              describe_list(missing, "missing"), describe_list(unexpected, "unexpected"),
              describe_list(mismatched, "shape mismatches"), describe_list(duplicated, "duplicated"));
}

}  // namespace

LlamaFiles resolve_llama_files(const std::string& path, const std::string& config_path) {
  const fs::path p(path);
  LlamaFiles files;
  if (fs::is_directory(p)) {
    files.config = (p / "config.json").string();
    TORCH_CHECK(fs::is_regular_file(files.config), "load_llama: the model folder '", path, "' has no config.json");
    for (const char* index : {"model.safetensors.index.json", "pytorch_model.bin.index.json"}) {
      if (fs::is_regular_file(p / index)) {
        files.weights = shards_of_index(p / index);
        return files;
      }
      const std::string single = std::string(index).substr(0, std::string(index).size() - 11);  // no ".index.json"
      if (fs::is_regular_file(p / single)) {
        files.weights = {(p / single).string()};
        return files;
      }
    }
    TORCH_CHECK(false, "load_llama: the model folder '", path, "' has no weights (looked for ",
                "model.safetensors.index.json, model.safetensors, pytorch_model.bin.index.json, pytorch_model.bin)");
  }
  TORCH_CHECK(fs::is_regular_file(p), "load_llama: '", path, "' is neither a model folder nor a weight file");
  files.config = config_path.empty() ? (p.parent_path() / "config.json").string() : config_path;
  TORCH_CHECK(fs::is_regular_file(files.config), "load_llama: no config for the weight file '", path, "' (looked for ",
              files.config, "; set LlamaLoadOptions::config_path)");
  files.weights = {path};
  return files;
}

LlamaForCausalLM load_llama(const std::string& path, const LlamaLoadOptions& options) {
  const auto files = resolve_llama_files(path, options.config_path());
  LlamaForCausalLM model(LlamaOptions(read_llama_config(files.config))
                             .dtype(options.dtype())
                             .device(options.device())
                             .init_weights(false)
                             .fast_cpu_bf16(options.fast_cpu_bf16()));
  copy_weights(*model, files.weights);
  model->eval();
  return model;
}

}  // namespace btadapter::llm
