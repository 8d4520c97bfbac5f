#pragma once
// Helpers shared by the io tests: the tiny_a fixture and exact tensor-map comparison.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "btadapter/io/safetensors.h"
#include "support/test_support.h"

namespace btadapter::io::testing {

using btadapter::testing::expect_error;

/// A tensor file of the tiny_a parity fixture.
inline TensorMap tiny_a(const std::string& name) {
  return read_safetensors(btadapter::testing::fixture_path("parity/tiny_a/" + name).string());
}

inline std::vector<std::string> keys_of(const TensorMap& tensors) {
  std::vector<std::string> out;
  for (const auto& kv : tensors) out.push_back(kv.first);
  return out;
}

/// Same keys, and every tensor bit-identical (dtype, shape and values).
inline void expect_identical(const TensorMap& actual, const TensorMap& expected) {
  ASSERT_EQ(keys_of(actual), keys_of(expected));
  for (const auto& [name, t] : expected) {
    const torch::Tensor& got = actual.at(name);
    EXPECT_EQ(got.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(got.sizes() == t.sizes() && torch::equal(got, t)) << name << ": " << got.sizes() << " vs "
                                                                   << t.sizes();
  }
}

}  // namespace btadapter::io::testing
