#pragma once
// The LLM half of the conversation fixture tiny_conv_a, read once per test binary, and the README's
// tolerance rule as a budget ratio.

#include "btadapter/io/safetensors.h"
#include "btadapter/llm/hf_checkpoint.h"
#include "support/test_support.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <string>

namespace btadapter::testing {

struct LlmFixture {
  std::string dir, llama_file, config_file;
  io::TensorMap inputs, expected;
  nlohmann::json config;
  int64_t vid_patch = 0, vid_start = 0, vid_end = 0;
};

inline const LlmFixture& llm_fixture() {
  static const LlmFixture fixture = [] {
    LlmFixture f;
    f.dir = fixture_path("conversation/tiny_conv_a").string();
    f.llama_file = f.dir + "/llama.safetensors";
    f.config_file = f.dir + "/config.json";
    f.inputs = io::read_safetensors(f.dir + "/inputs.safetensors");
    f.expected = io::read_safetensors(f.dir + "/expected.safetensors");
    std::ifstream in(f.config_file);
    in >> f.config;
    const auto& ids = f.config["tokenizer"]["special_token_ids"];
    f.vid_patch = ids["<vid_patch>"].get<int64_t>();
    f.vid_start = ids["<vid_start>"].get<int64_t>();
    f.vid_end = ids["<vid_end>"].get<int64_t>();
    return f;
  }();
  return fixture;
}

inline const torch::Tensor& expected_tensor(const std::string& name) {
  const auto& e = llm_fixture().expected;
  const auto it = e.find(name);
  if (it == e.end()) throw std::runtime_error("expected.safetensors has no " + name);
  return it->second;
}

/// max over elements of |actual - expected| / (atol + rtol |expected|) with the fixture's `group`
/// tolerances; <= 1 passes.
inline double budget_ratio(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& group) {
  const auto& tol = llm_fixture().config["tolerance"][group];
  const double atol = tol["atol"].get<double>(), rtol = tol["rtol"].get<double>();
  const double of_max = tol["rtol_of_max"].get<double>();
  const auto a = actual.to(torch::kCPU, torch::kDouble), e = expected.to(torch::kDouble);
  if (a.sizes() != e.sizes()) throw std::runtime_error("shape " + c10::str(a.sizes()) + " vs " + c10::str(e.sizes()));
  const auto bound = atol + rtol * e.abs() + of_max * e.abs().max();
  return ((a - e).abs() / bound).max().item<double>();
}

/// The fixture's LLaMA in float32 (or another dtype).
inline llm::LlamaForCausalLM fixture_llama(torch::Dtype dtype = torch::kFloat) {
  return llm::load_llama(llm_fixture().llama_file, llm::LlamaLoadOptions().dtype(dtype));
}

}  // namespace btadapter::testing
