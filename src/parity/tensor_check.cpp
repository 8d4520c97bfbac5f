#include "btadapter/parity/tensor_check.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace btadapter {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Empty when the shapes agree, else the failure's text.
std::string shape_problem(const torch::Tensor& actual, const torch::Tensor& expected) {
  if (actual.sizes() == expected.sizes()) return "";
  std::ostringstream msg;
  msg << "shape " << actual.sizes() << ", expected " << expected.sizes();
  return msg.str();
}

}  // namespace

ParityCheck missing_check(const std::string& name, const std::string& group, const std::string& reason) {
  ParityCheck check;
  check.name = name;
  check.group = group;
  check.worst_ratio = kInf;
  check.problem = reason;
  return check;
}

ParityCheck check_tensor(const std::string& name, const std::string& group, const torch::Tensor& actual,
                         const torch::Tensor& expected, const ParityTolerance& tolerance) {
  ParityCheck check = missing_check(name, group, shape_problem(actual, expected));
  if (!check.problem.empty()) return check;
  if (expected.numel() == 0) {
    check.worst_ratio = 0.0;
    check.passed = true;
    return check;
  }
  const auto a = actual.detach().to(torch::kCPU, torch::kDouble);
  const auto e = expected.to(torch::kDouble);
  const auto diff = (a - e).abs();
  const auto allowed = tolerance.atol + tolerance.rtol * e.abs() + tolerance.rtol_of_max * e.abs().max();
  check.max_abs_diff = diff.max().item<double>();
  check.worst_ratio = std::isfinite(check.max_abs_diff) ? (diff / allowed).max().item<double>() : kInf;
  check.passed = check.worst_ratio <= 1.0;
  return check;
}

ParityCheck check_exact(const std::string& name, const torch::Tensor& actual, const torch::Tensor& expected) {
  ParityCheck check = missing_check(name, "exact", shape_problem(actual, expected));
  if (!check.problem.empty()) return check;
  const auto a = actual.to(torch::kCPU, torch::kDouble), e = expected.to(torch::kDouble);
  check.max_abs_diff = expected.numel() == 0 ? 0.0 : (a - e).abs().max().item<double>();
  check.passed = check.max_abs_diff == 0.0;
  check.worst_ratio = check.passed ? 0.0 : kInf;
  return check;
}

const torch::Tensor& fixture_input(const io::TensorMap& inputs, const std::string& name, const char* who) {
  auto it = inputs.find(name);
  TORCH_CHECK(it != inputs.end(), who, ": inputs.safetensors has no tensor '", name, "'");
  return it->second;
}

}  // namespace btadapter
