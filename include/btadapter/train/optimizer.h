#pragma once
/// Optimizer set-up for the frozen-backbone pretraining: parameter groups with mmengine's
/// `paramwise_cfg.custom_keys` learning-rate multipliers, AdamW over those groups, learning-rate updates
/// from the schedule, and gradient-norm clipping.
///
/// Matching rule (mmengine DefaultOptimWrapperConstructor, reference.md 6.1): a parameter gets the rule
/// of the LONGEST key that is a substring of its full dotted name (ties: alphabetical), where a
/// parameter registered directly on the root module is matched as ".name". So with the official
/// rules `backbone.btadapter_T_layers.0.temporal_fc.weight` takes ".btadapter_T_layers" (x100) rather
/// than ".btadapter" (x10), and `backbone.balance1` takes "balance" (x100). Unmatched parameters keep
/// the base learning rate and weight decay. Weight decay applies to every trainable parameter (norms,
/// biases and embeddings included), as in the official config.
///
/// Example:
///   auto groups = train::build_param_groups(train::trainable_parameters(*model),
///                                           train::ParamGroupOptions(2e-6));
///   auto optimizer = train::make_adamw(groups, {0.9, 0.98}, 1e-8);
///   train::set_learning_rates(*optimizer, groups, schedule.factor(step));
///
/// Thread safety: plain functions over the caller's objects.

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <torch/ordered_dict.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace btadapter::train {

/// Named tensors in registration order (what torch::nn::Module::named_parameters() returns).
using NamedTensors = torch::OrderedDict<std::string, torch::Tensor>;

/// One custom key: parameters whose name contains `key` get lr * lr_mult and weight_decay * decay_mult.
struct LrMultRule {
  std::string key;
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

/// The official pretraining rules: ".btadapter" x10, "extra_proj" x10, "balance" x100,
/// ".btadapter_T_layers" x100.
std::vector<LrMultRule> official_lr_mult_rules();

/// The rule that applies to `name` (see the file comment), or nullptr when none matches.
const LrMultRule* match_lr_mult_rule(const std::string& name, const std::vector<LrMultRule>& rules);

/// Parameters that require grad, in registration order.
NamedTensors trainable_parameters(const torch::nn::Module& module);

struct ParamGroupOptions {
  explicit ParamGroupOptions(double lr) : lr_(lr) {}
  /// Base (peak) learning rate; required.
  TORCH_ARG(double, lr);
  /// Base weight decay; default 0.05.
  TORCH_ARG(double, weight_decay) = 0.05;
  /// Custom keys; default official_lr_mult_rules().
  TORCH_ARG(std::vector<LrMultRule>, rules) = official_lr_mult_rules();
};

/// Parameters sharing one rule: one optimizer param group.
struct ParamGroup {
  std::string rule;      ///< the matched key; "" for parameters no rule matched
  double lr = 0.0;       ///< peak learning rate (base lr * lr_mult)
  double weight_decay = 0.0;
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
};

/// Groups the parameters that require grad by matched rule (frozen ones are left out), groups in order
/// of first appearance. Throws when nothing is trainable.
std::vector<ParamGroup> build_param_groups(const NamedTensors& named, const ParamGroupOptions& options);

/// AdamW (decoupled weight decay, PyTorch semantics) with one optimizer group per ParamGroup, in the
/// same order, each with its own lr and weight decay.
std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<ParamGroup>& groups,
                                                std::tuple<double, double> betas, double eps);

/// Sets group g's learning rate to groups[g].lr * factor (the schedule's multiplier).
void set_learning_rates(torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups, double factor);

/// Current learning rate of every optimizer group.
std::vector<double> learning_rates(const torch::optim::Optimizer& optimizer);

/// L2 norm of all gradients together (undefined gradients count as zero), measured before clipping;
/// when max_norm > 0 and the norm exceeds it, gradients are scaled by max_norm / (norm + 1e-6) like
/// torch.nn.utils.clip_grad_norm_. A non-finite norm is returned as is and nothing is scaled: the
/// caller decides to skip the step.
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace btadapter::train
