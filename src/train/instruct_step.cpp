#include "btadapter/train/instruct_step.h"

#include "btadapter/io/safetensors.h"
#include "btadapter/text/instruction_sample.h"

#include <torch/nn/functional/loss.h>
#include <torch/torch.h>

#include <cmath>

namespace btadapter::train {
namespace {

const char* const kTowerPrefix = "model.vision_tower.";
const char* const kProjectorPrefix = "model.mm_projector.";

}  // namespace

NamedTensors instruct_trainable(InstructModel& model) {
  NamedTensors named;
  for (auto& [name, p] : model.tower->branch_parameters()) {
    p.set_requires_grad(true);
    named.insert(kTowerPrefix + name, p);
  }
  for (const auto& item : model.projector.mm_projector->named_parameters()) {
    item.value().set_requires_grad(true);
    named.insert(kProjectorPrefix + item.key(), item.value());
  }
  return named;
}

TokenLoss instruct_token_loss(InstructModel& model, const torch::Tensor& features, const torch::Tensor& input_ids,
                              const torch::Tensor& labels) {
  TORCH_CHECK(features.dim() == 4 && input_ids.dim() == 2 && labels.sizes() == input_ids.sizes() &&
                  features.size(0) == input_ids.size(0),
              "instruct_token_loss: expected features [B,T,P+1,W] and ids/labels [B,N] with the same B, got ",
              features.sizes(), ", ", input_ids.sizes(), ", ", labels.sizes());
  const torch::Tensor projected = model.projector.mm_projector->forward(model.tower->train_video_tokens(features));
  const torch::Tensor ids = input_ids.to(projected.device());
  const torch::Tensor embeds = llm::splice_video_features(ids, model.llm->embed(ids), projected, model.splice);
  const torch::Tensor logits = model.llm->forward(embeds).logits;
  const int64_t n = ids.size(1), vocab = logits.size(-1);
  const torch::Tensor targets = labels.narrow(1, 1, n - 1).reshape({-1}).to(logits.device());
  TokenLoss loss;
  loss.sum = torch::nn::functional::cross_entropy(
      logits.narrow(1, 0, n - 1).reshape({-1, vocab}).to(torch::kFloat), targets,
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(text::kIgnoreIndex).reduction(torch::kSum));
  loss.tokens = targets.ne(text::kIgnoreIndex).sum().item<int64_t>();
  return loss;
}

InstructStep::InstructStep(InstructModel model, InstructStepOptions options, std::shared_ptr<dist::ProcessGroup> group)
    : model_(std::move(model)),
      options_(std::move(options)),
      group_(std::move(group)),
      schedule_(options_.schedule()) {
  TORCH_CHECK(group_ != nullptr, "InstructStep: expected a process group, got null");
  model_.llm->eval();
  for (auto& p : model_.llm->parameters()) p.set_requires_grad(false);
  model_.tower->train();
  trainable_ = instruct_trainable(model_);
  params_ = trainable_.values();
  groups_ = build_param_groups(trainable_, ParamGroupOptions(options_.lr()).weight_decay(options_.weight_decay()).rules({}));
  optimizer_ = make_adamw(groups_, {options_.beta1(), options_.beta2()}, options_.eps());
  reducer_ = std::make_unique<dist::GradientReducer>(params_, group_, options_.reducer());
}

InstructStep::~InstructStep() = default;

InstructStepResult InstructStep::run(const InstructionBatch& batch, int64_t step) {
  TORCH_CHECK(batch.features.defined() && batch.features.size(0) > 0,
              "InstructStep: expected a batch with at least one sample, got none (bad videos: ", batch.bad_videos, ")");
  model_.tower->train();
  const auto device = params_.front().device();
  TokenLoss loss = instruct_token_loss(model_, batch.features.to(device), batch.input_ids, batch.labels);

  // The global token count and loss sum, so that every rank normalises by the same count.
  auto totals = torch::stack({loss.sum.detach().to(torch::kDouble), torch::tensor(static_cast<double>(loss.tokens),
                                                                                  torch::kDouble).to(device)});
  group_->all_reduce_sum(totals);
  totals = totals.cpu();
  InstructStepResult result;
  result.tokens = static_cast<int64_t>(totals[1].item<double>());
  const double denominator = std::max<double>(1.0, static_cast<double>(result.tokens));
  result.loss = totals[0].item<double>() / denominator;

  optimizer_->zero_grad();
  (loss.sum * (group_->world_size() / denominator)).backward();
  reducer_->synchronize();  // averages over ranks: sum of the token losses / global count
  result.grad_norm = clip_grad_norm(params_, options_.grad_clip());
  const double factor = schedule_.factor(step);
  set_learning_rates(*optimizer_, groups_, factor);
  result.lr = options_.lr() * factor;
  result.applied = std::isfinite(result.grad_norm) && result.tokens > 0;
  if (result.applied) optimizer_->step();
  return result;
}

void save_instruct_weights(const InstructModel& model, const std::string& adapter_path,
                           const std::string& projector_path) {
  io::TensorMap adapter, projector;
  for (const auto& [name, p] : model.tower->branch_parameters()) {
    adapter[kTowerPrefix + name] = p.detach().to(torch::kCPU, torch::kFloat).contiguous();
  }
  adapter[std::string(kTowerPrefix) + "balance2"] = model.tower->balance2.detach().to(torch::kCPU, torch::kFloat);
  for (const auto& item : model.projector.mm_projector->named_parameters()) {
    projector[kProjectorPrefix + item.key()] = item.value().detach().to(torch::kCPU, torch::kFloat).contiguous();
  }
  io::write_safetensors(adapter_path, adapter, {{"format", "pt"}, {"content", "btadapter instruction-tuned branch"}});
  io::write_safetensors(projector_path, projector, {{"format", "pt"}, {"content", "btadapter mm_projector"}});
}

}  // namespace btadapter::train
