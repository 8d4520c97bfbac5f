#include "btadapter/train/optimizer.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <cmath>

namespace btadapter::train {

std::vector<LrMultRule> official_lr_mult_rules() {
  return {{".btadapter", 10.0, 1.0}, {"extra_proj", 10.0, 1.0}, {"balance", 100.0, 1.0},
          {".btadapter_T_layers", 100.0, 1.0}};
}

const LrMultRule* match_lr_mult_rule(const std::string& name, const std::vector<LrMultRule>& rules) {
  // mmengine matches against f'{prefix}.{name}', which is the dotted name for nested parameters and
  // ".name" for parameters of the root module.
  const std::string subject = name.find('.') == std::string::npos ? "." + name : name;
  const LrMultRule* best = nullptr;
  for (const auto& rule : rules) {
    if (rule.key.empty() || subject.find(rule.key) == std::string::npos) continue;
    const bool longer = best == nullptr || rule.key.size() > best->key.size();
    const bool tie_first = best != nullptr && rule.key.size() == best->key.size() && rule.key < best->key;
    if (longer || tie_first) best = &rule;
  }
  return best;
}

NamedTensors trainable_parameters(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : module.named_parameters()) {
    if (item.value().requires_grad()) out.insert(item.key(), item.value());
  }
  return out;
}

std::vector<ParamGroup> build_param_groups(const NamedTensors& named, const ParamGroupOptions& options) {
  TORCH_CHECK(options.lr() > 0, "optim.lr: expected a positive learning rate, got ", options.lr());
  std::vector<ParamGroup> groups;
  for (const auto& item : named) {
    if (!item.value().requires_grad()) continue;
    const LrMultRule* rule = match_lr_mult_rule(item.key(), options.rules());
    const std::string key = rule ? rule->key : "";
    auto it = std::find_if(groups.begin(), groups.end(), [&](const ParamGroup& g) { return g.rule == key; });
    if (it == groups.end()) {
      ParamGroup group;
      group.rule = key;
      group.lr = options.lr() * (rule ? rule->lr_mult : 1.0);
      group.weight_decay = options.weight_decay() * (rule ? rule->decay_mult : 1.0);
      groups.push_back(std::move(group));
      it = groups.end() - 1;
    }
    it->names.push_back(item.key());
    it->params.push_back(item.value());
  }
  TORCH_CHECK(!groups.empty(), "optimizer: no trainable parameters (every parameter has requires_grad=false)");
  return groups;
}

std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<ParamGroup>& groups,
                                                std::tuple<double, double> betas, double eps) {
  std::vector<torch::optim::OptimizerParamGroup> torch_groups;
  for (const auto& group : groups) {
    auto options = std::make_unique<torch::optim::AdamWOptions>(group.lr);
    options->betas(betas).eps(eps).weight_decay(group.weight_decay);
    torch_groups.emplace_back(group.params, std::move(options));
  }
  // The defaults only matter for groups added later; every group above carries its own options.
  auto defaults = torch::optim::AdamWOptions(groups.front().lr).betas(betas).eps(eps);
  return std::make_unique<torch::optim::AdamW>(std::move(torch_groups), defaults);
}

void set_learning_rates(torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups, double factor) {
  auto& torch_groups = optimizer.param_groups();
  TORCH_CHECK(torch_groups.size() == groups.size(), "set_learning_rates: optimizer has ", torch_groups.size(),
              " groups, expected ", groups.size());
  for (size_t g = 0; g < groups.size(); ++g) torch_groups[g].options().set_lr(groups[g].lr * factor);
}

std::vector<double> learning_rates(const torch::optim::Optimizer& optimizer) {
  std::vector<double> out;
  for (const auto& group : optimizer.param_groups()) out.push_back(group.options().get_lr());
  return out;
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    // Kept on the gradients' device: one host synchronisation for the total, not one per tensor.
    auto device = norms.empty() ? p.grad().device() : norms.front().device();
    norms.push_back(p.grad().norm(2).to(device, torch::kDouble));
  }
  if (norms.empty()) return 0.0;
  const double total = torch::stack(norms).norm(2).item<double>();
  if (!std::isfinite(total) || max_norm <= 0) return total;
  const double scale = max_norm / (total + 1e-6);
  if (scale < 1.0) {
    for (const auto& p : params) {
      if (p.grad().defined()) p.grad().mul_(scale);
    }
  }
  return total;
}

}  // namespace btadapter::train
