#include "btadapter/io/state_dict.h"

#include <torch/torch.h>

#include <sstream>

namespace btadapter::io {
namespace {

bool has_prefix(const std::string& key, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (key.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

/// Parameters and buffers by name, not detached (copy_ writes through them).
std::map<std::string, torch::Tensor> destinations(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) out.emplace(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) out.emplace(b.key(), b.value());
  return out;
}

/// "3 missing keys: 'a', 'b', 'c'" (empty when there are none).
std::string describe(const std::vector<std::string>& items, const char* what) {
  if (items.empty()) return "";
  std::ostringstream out;
  out << "\n  " << items.size() << " " << what << ":";
  for (const auto& item : items) out << "\n    " << item;
  return out.str();
}

}  // namespace

LoadStateDictReport load_state_dict(torch::nn::Module& module, const TensorMap& tensors,
                                    const LoadStateDictOptions& options) {
  const auto targets = destinations(module);
  LoadStateDictReport report;
  std::vector<std::string> missing, unexpected, mismatched, wrong_dtype, non_finite;
  for (const auto& [name, target] : targets) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      (has_prefix(name, options.allow_missing_prefixes()) ? report.missing : missing).push_back(name);
    } else if (it->second.sizes() != target.sizes()) {
      std::ostringstream line;
      line << name << ": module " << target.sizes() << ", weights " << it->second.sizes();
      mismatched.push_back(line.str());
    } else if (target.is_floating_point() && !it->second.is_floating_point()) {
      wrong_dtype.push_back(name + ": module " + c10::toString(target.scalar_type()) + ", weights " +
                            c10::toString(it->second.scalar_type()));
    } else {
      if (it->second.is_floating_point() && !torch::isfinite(it->second).all().item<bool>()) {
        non_finite.push_back(name);
      }
      report.loaded.push_back(name);
    }
  }
  for (const auto& [name, t] : tensors) {
    if (targets.count(name) == 0) (options.ignore_unexpected() ? report.unexpected : unexpected).push_back(name);
  }
  if (options.allow_non_finite() && !non_finite.empty()) {
    TORCH_WARN("load_state_dict: loading weights with NaN/Inf (allow_non_finite)", describe(non_finite, "keys"));
    non_finite.clear();
  }
  TORCH_CHECK(missing.empty() && unexpected.empty() && mismatched.empty() && wrong_dtype.empty() && non_finite.empty(),
              "load_state_dict: the weights do not fit the module (",
              report.loaded.size() - non_finite.size(), " of ", targets.size(), " keys match)",
              describe(missing, "missing keys"), describe(unexpected, "unexpected keys"),
              describe(mismatched, "shape mismatches"),
              describe(wrong_dtype, "non-floating weights for floating-point parameters"),
              describe(non_finite, "weights with NaN/Inf (LoadStateDictOptions::allow_non_finite to load them)"));

  torch::NoGradGuard no_grad;
  for (const auto& name : report.loaded) targets.at(name).copy_(tensors.at(name));
  return report;
}

TensorMap state_dict(const torch::nn::Module& module) {
  TensorMap out;
  for (const auto& [name, t] : destinations(module)) out.emplace(name, t.detach());
  return out;
}

}  // namespace btadapter::io
