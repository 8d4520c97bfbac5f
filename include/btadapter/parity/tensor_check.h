#pragma once
/// One tensor against its reference, with the fixtures' tolerance rule
///   |actual - expected| <= atol + rtol * |expected| + rtol_of_max * max|expected|   (elementwise)
/// compared in float64. Shared by the retrieval and the conversation parity checkers.

#include "btadapter/io/safetensors.h"
#include "btadapter/parity/model_parity.h"

#include <torch/types.h>

#include <string>

namespace btadapter {

/// The check of `actual` against `expected` under `tolerance`: worst_ratio = max |a - e| / allowed
/// (passes iff <= 1). A shape mismatch or a non-finite difference fails with ratio inf; an empty
/// tensor passes.
ParityCheck check_tensor(const std::string& name, const std::string& group, const torch::Tensor& actual,
                         const torch::Tensor& expected, const ParityTolerance& tolerance);

/// Exact equality (ids, indices): ratio 0 when every element is equal, inf otherwise (max_abs_diff
/// says by how much).
ParityCheck check_exact(const std::string& name, const torch::Tensor& actual, const torch::Tensor& expected);

/// A failed check for a tensor that was not produced, with the reason.
ParityCheck missing_check(const std::string& name, const std::string& group, const std::string& reason);

/// The tensor `name` of a fixture's inputs.safetensors; throws naming the checker (`who`, e.g. "parity")
/// and the tensor when it is absent.
const torch::Tensor& fixture_input(const io::TensorMap& inputs, const std::string& name, const char* who);

}  // namespace btadapter
