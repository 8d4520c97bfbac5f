#pragma once
/// Loading a Hugging Face LLaMA (`LlamaForCausalLM.save_pretrained`) into llm::LlamaForCausalLM.
///
/// `path` is either
/// - a model folder: `config.json` plus the weights, looked for in this order:
///   `model.safetensors.index.json` (sharded safetensors), `model.safetensors`,
///   `pytorch_model.bin.index.json` (sharded torch.save), `pytorch_model.bin`; or
/// - one weight file (safetensors or torch.save) with its config from LlamaLoadOptions::config_path,
///   else the `config.json` beside it (the conversation fixtures' config.json with its `llm` section
///   qualifies, see llama_config.h).
///
/// Safetensors files are memory-mapped and copied straight into the parameters (no second copy of the
/// model in memory); torch.save shards are read one at a time. `*.rotary_emb.inv_freq` buffers of
/// transformers 4.28 checkpoints are skipped. Keys are strict: one error lists every missing,
/// unexpected and mis-shaped tensor; a shard named in an index but absent is an error naming it before
/// anything is read. Weights are converted to the requested dtype and device while copying.
///
/// Usage:
///   auto model = llm::load_llama("vicuna-7b-v1.1", llm::LlamaLoadOptions().dtype(torch::kBFloat16));
///
/// Thread safety: free functions with no shared state.

#include "btadapter/llm/llama.h"

#include <torch/arg.h>

#include <string>
#include <vector>

namespace btadapter::llm {

/// How load_llama builds the model.
struct LlamaLoadOptions {
  /// Parameter dtype; default float32 (float16 needs CUDA).
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat;
  /// Device; default CPU.
  TORCH_ARG(torch::Device, device) = torch::Device(torch::kCPU);
  /// config.json for a single weight file; default "" = the config.json beside it (a folder always
  /// uses its own).
  TORCH_ARG(std::string, config_path) = "";
  /// LlamaOptions::fast_cpu_bf16; default true.
  TORCH_ARG(bool, fast_cpu_bf16) = true;
};

/// The config.json and weight files `path` resolves to (see above); throws naming what was looked for.
struct LlamaFiles {
  std::string config;
  std::vector<std::string> weights;
};
LlamaFiles resolve_llama_files(const std::string& path, const std::string& config_path = "");

/// Builds the model from the config and copies the weights in. Errors name the files.
LlamaForCausalLM load_llama(const std::string& path, const LlamaLoadOptions& options = {});

}  // namespace btadapter::llm
