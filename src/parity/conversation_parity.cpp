#include "btadapter/parity/conversation_parity.h"

#include "btadapter/chat/video_tower_weights.h"
#include "btadapter/data/conversation_frames.h"
#include "btadapter/io/safetensors.h"
#include "btadapter/llm/generation.h"
#include "btadapter/llm/hf_checkpoint.h"
#include "btadapter/llm/video_splice.h"
#include "btadapter/parity/tensor_check.h"
#include "parity/fixture_json.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>

namespace btadapter {
namespace {

using nlohmann::json;
using io::TensorMap;

// ---- config.json ----

struct ConversationFixture {
  std::string dir;
  std::map<std::string, ParityTolerance> tolerances;  // forward, llm, loss, grad
  std::map<std::string, std::string> groups;          // expected tensor -> group (or "exact")
  json frame_cases = json::array();                   // frame_sampling.cases
  int64_t vid_patch = 0, vid_start = 0, vid_end = 0;
  std::string file(const char* name) const { return dir + "/" + name; }
};

using parity_detail::fixture_member;
using parity_detail::fixture_number;

ConversationFixture read_fixture(const std::string& dir) {
  ConversationFixture f;
  f.dir = dir;
  const std::string file = f.file("config.json");
  const json j = parity_detail::read_fixture_json(file, "conversation parity");
  const json& tolerance = fixture_member(j, "tolerance", file);
  for (const char* group : {"forward", "llm", "loss", "grad"}) {
    f.tolerances[group] = parity_detail::fixture_tolerance(tolerance, group, file);
  }
  const json& files = fixture_member(j, "files", file);
  const json& expected = fixture_member(fixture_member(files, "expected.safetensors", file), "tensors", file);
  for (const auto& [name, entry] : expected.items()) {
    const std::string group = fixture_member(entry, "tolerance", file).get<std::string>();
    TORCH_CHECK(group == "exact" || f.tolerances.count(group), file, ": expected tensor ", name,
                " has an unknown tolerance group '", group, "'");
    f.groups[name] = group;
  }
  if (j.contains("frame_sampling")) f.frame_cases = fixture_member(j["frame_sampling"], "cases", file);
  const json& ids = fixture_member(fixture_member(j, "tokenizer", file), "special_token_ids", file);
  f.vid_patch = fixture_member(ids, "<vid_patch>", file).get<int64_t>();
  f.vid_start = fixture_member(ids, "<vid_start>", file).get<int64_t>();
  f.vid_end = fixture_member(ids, "<vid_end>", file).get<int64_t>();
  return f;
}

// ---- producing ----

struct Models {
  chat::VideoTower tower{nullptr};
  chat::Projector projector;
  llm::LlamaForCausalLM llm{nullptr};
};

void put_all(const std::string& prefix, const TensorMap& tensors, TensorMap& out) {
  for (const auto& [name, tensor] : tensors) out[prefix + name] = tensor;
}

// The inference tower on one clip: every intermediate and the projector output.
torch::Tensor produce_inference(Models& m, const std::string& prefix, const torch::Tensor& frames, TensorMap& out) {
  torch::NoGradGuard no_grad;
  const TensorMap trace = m.tower->trace(frames);
  put_all(prefix, trace, out);
  const torch::Tensor projected = m.projector.mm_projector->forward(trace.at("video_tokens"));
  out[prefix + "mm_projector_out"] = projected;
  return projected;
}

torch::Tensor spliced_prompt(Models& m, const ConversationFixture& f, const torch::Tensor& ids,
                             const torch::Tensor& features, bool training) {
  const llm::VideoSpliceOptions options =
      llm::VideoSpliceOptions(f.vid_patch, f.vid_start, f.vid_end).detach_text_rows(training);
  return llm::splice_video_features(ids, m.llm->embed(ids), features.unsqueeze(0), options);
}

// The prompt with our own projected tokens: hidden states, logits, the prefill cache, greedy decoding.
void produce_llm(Models& m, const ConversationFixture& f, const TensorMap& inputs, const torch::Tensor& projected,
                 const TensorMap& expected, TensorMap& out) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& ids = fixture_input(inputs, "inf.input_ids", "conversation parity");
  const torch::Tensor embeds = spliced_prompt(m, f, ids, projected, false);
  const auto full = m.llm->forward(embeds, nullptr, llm::LlamaForwardOptions().output_hidden_states(true));
  out["llm.logits"] = full.logits;
  for (size_t i = 0; i < full.hidden_states.size(); ++i) out["llm.hidden_states." + std::to_string(i)] = full.hidden_states[i];

  llm::KVCache cache(m.llm->config(), 1, ids.size(1), m.llm->tensor_options());
  m.llm->forward(embeds, &cache, llm::LlamaForwardOptions().last_logits_only(true));
  for (int64_t layer = 0; layer < cache.num_layers(); ++layer) {
    out["llm.prefill_cache." + std::to_string(layer) + ".key"] = cache.key(layer);
    out["llm.prefill_cache." + std::to_string(layer) + ".value"] = cache.value(layer);
  }
  auto it = expected.find("llm.gen.ids");
  if (it == expected.end()) return;
  const auto result = llm::generate(
      m.llm, embeds, llm::GenerationOptions().max_new_tokens(it->second.numel()).keep_step_logits(true));
  out["llm.gen.ids"] = torch::tensor(result.ids, torch::kLong).unsqueeze(0);
  out["llm.gen.step_logits"] = result.step_logits;
}

// The official training build (README section 7): features -> branch -> projector -> splice -> LLM ->
// loss on the labels, and the gradients of the official trainable set.
void produce_training(Models& m, const ConversationFixture& f, const TensorMap& inputs, TensorMap& out) {
  auto& embed_weight = m.llm->model->embed_tokens->weight;
  embed_weight.set_requires_grad(true);
  for (auto& p : m.projector.mm_projector->parameters()) p.set_requires_grad(true);

  TensorMap trace;
  const torch::Tensor tokens = m.tower->train_video_tokens(fixture_input(inputs, "train.features", "conversation parity"), &trace);
  put_all("train.", trace, out);
  const torch::Tensor projected = m.projector.mm_projector->forward(tokens);
  out["train.mm_projector_out"] = projected;
  const torch::Tensor& ids = fixture_input(inputs, "train.input_ids", "conversation parity");
  TORCH_CHECK(projected.size(0) == 1, "conversation parity: expected one training video, got ", projected.size(0));
  const torch::Tensor embeds = spliced_prompt(m, f, ids, projected.squeeze(0), true);
  const torch::Tensor logits = m.llm->forward(embeds).logits;
  out["train.logits"] = logits;
  const int64_t vocab = logits.size(-1);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(
      logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, vocab}).to(torch::kFloat),
      fixture_input(inputs, "train.labels", "conversation parity").narrow(1, 1, ids.size(1) - 1).reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  out["train.loss"] = loss.reshape({1});
  loss.backward();

  const auto grad_or_zeros = [](const torch::Tensor& p) { return p.grad().defined() ? p.grad() : torch::zeros_like(p); };
  out["train.grad.model.embed_tokens.weight"] = grad_or_zeros(embed_weight);
  out["train.grad.model.mm_projector.weight"] = grad_or_zeros(m.projector.mm_projector->weight);
  out["train.grad.model.mm_projector.bias"] = grad_or_zeros(m.projector.mm_projector->bias);
  for (const auto& [name, p] : m.tower->branch_parameters()) out["train.grad.model.vision_tower." + name] = grad_or_zeros(p);
  embed_weight.set_requires_grad(false);
}

void produce_frame_indices(const ConversationFixture& f, TensorMap& out) {
  for (const auto& c : f.frame_cases) {
    const std::string file = f.file("config.json");
    const auto total = fixture_number<int64_t>(c, "total_frames", file);
    const auto wanted = fixture_number<int64_t>(c, "num_frm", file);
    out[fixture_member(c, "name", file).get<std::string>()] =
        torch::tensor(data::conversation_frame_indices(total, std::min(total, wanted)), torch::kLong);
  }
}

Models load_models(const ConversationFixture& f) {
  Models m;
  m.tower = chat::load_video_tower(f.file("vision_tower_clip.safetensors"), f.file("btadapter.safetensors"));
  m.projector = chat::load_projector(f.file("mm_projector.safetensors"));
  m.llm = llm::load_llama(f.file("llama.safetensors"), llm::LlamaLoadOptions().config_path(f.file("config.json")));
  return m;
}

bool has_prefix(const TensorMap& expected, const std::string& prefix) {
  for (const auto& [name, tensor] : expected) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

ParityReport run_conversation_parity(const std::string& dir) {
  const ConversationFixture f = read_fixture(dir);
  Models m = load_models(f);
  const TensorMap inputs = io::read_safetensors(f.file("inputs.safetensors"));
  const TensorMap expected = io::read_safetensors(f.file("expected.safetensors"));

  TensorMap out;
  const torch::Tensor projected = produce_inference(m, "inf.", fixture_input(inputs, "inf.frames", "conversation parity"), out);
  if (has_prefix(expected, "long.")) produce_inference(m, "long.", fixture_input(inputs, "long.frames", "conversation parity"), out);
  if (has_prefix(expected, "llm.")) produce_llm(m, f, inputs, projected, expected, out);
  if (has_prefix(expected, "train.")) produce_training(m, f, inputs, out);
  produce_frame_indices(f, out);

  ParityReport report;
  report.weights = dir;
  for (const auto& [name, reference] : expected) {
    auto group = f.groups.find(name);
    if (group == f.groups.end()) {
      report.checks.push_back(missing_check(name, "?", "not listed in config.json files"));
      continue;
    }
    auto it = out.find(name);
    if (it == out.end()) {
      report.checks.push_back(missing_check(name, group->second, "not produced by the checker"));
    } else if (group->second == "exact") {
      report.checks.push_back(check_exact(name, it->second, reference));
    } else {
      report.checks.push_back(check_tensor(name, group->second, it->second, reference, f.tolerances.at(group->second)));
    }
  }
  return report;
}

}  // namespace btadapter
