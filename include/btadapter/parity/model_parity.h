#pragma once
/// Numerical parity against a fixture folder computed with the official Python code
/// (e.g. `tests/fixtures/parity/<name>/`, format in tests/fixtures/parity/README.md): `config.json` (model sizes,
/// adapter depth and fusion, frames, batch, loss weights, the tolerance rule), CLIP weights in several
/// namings, `adapter.safetensors`, `inputs.safetensors` and `expected.safetensors`.
///
/// run_parity() builds a VideoTextModel from config.json alone, loads one CLIP weight file plus the
/// adapter, reproduces every tensor of expected.safetensors and checks each with the fixture's rule
///   |actual - expected| <= atol + rtol * |expected| + rtol_of_max * max|expected|
/// for its group (grad: `btm.grad.*`; loss: `loss.*` and `btm.loss.*`; forward: everything else).
/// An expected tensor that the harness cannot produce is a failure, never a skip.
///
/// What is reproduced (names as in the fixtures):
/// - clip.*: plain CLIP on `pixels` / `text_ids` (hidden states, pooled, embeddings, logits with the
///   weight file's logit_scale);
/// - bt.*: the eval-mode BT-Adapter forward on `video` (CLIP hidden states, every branch level's input,
///   T-layer and S-layer outputs, fused class token, frame and video embeddings);
/// - btm.*: the training pass with the official mask layout from `mask` (drop path disabled), its three
///   losses, the same-(patch, frame) MBTA variant, and the gradient of btm.loss.total for every trainable
///   parameter (named without the `backbone.` prefix);
/// - loss.*: the loss functions on the loss-level inputs.
///
/// Thread safety: independent calls are safe (each builds its own model).

#include "btadapter/config/model_config.h"

#include <string>
#include <vector>

namespace btadapter {

/// One tolerance group of the fixture rule.
struct ParityTolerance {
  double atol = 1e-5;
  double rtol = 1e-4;
  double rtol_of_max = 0.0;
};

/// Everything the harness takes from a fixture's config.json.
struct ParityFixture {
  std::string dir;
  ModelConfig model;                 ///< built from the `model` and `btadapter` sections
  int64_t frames = 0;                ///< btadapter.num_frames
  double logit_scale = 100.0;        ///< training.logit_scale (1 / tau)
  double mbca_weight = 0.1;          ///< from the recogniser's pretrain={...} (official 0.1)
  double mbta_weight = 0.1;
  ParityTolerance forward, loss, grad;
};

/// Parses `<dir>/config.json`; errors name the file and the key.
ParityFixture read_parity_fixture(const std::string& dir);

/// Where the harness takes a ModelConfig field from.
enum class ParitySource {
  kOfficialKey,  ///< one key of the official config.json
  kDerived,      ///< computed from official keys
  kHarness,      ///< not in the official config: set or left at its default by the harness
};

/// One row of the mapping from the official fixture config to ModelConfig.
struct ParityFieldSource {
  const char* key;       ///< our dotted key, as in for_each_model_field ("vision.width")
  ParitySource source;
  const char* official;  ///< kOfficialKey: the config.json path ("model.vision_width"); else the rule in words
};

/// The mapping, one row per for_each_model_field key in its order (a field without a row makes
/// read_parity_fixture throw, and tests/parity/parity_fields_test.cpp fail).
const std::vector<ParityFieldSource>& parity_field_sources();

/// The comparison of one expected tensor.
struct ParityCheck {
  std::string name;
  std::string group;           ///< forward, loss or grad
  double max_abs_diff = 0.0;   ///< max |actual - expected|
  double worst_ratio = 0.0;    ///< max |actual - expected| / allowed (pass iff <= 1; inf with a problem)
  bool passed = false;
  std::string problem;         ///< why it failed without a number (not produced, shape mismatch)
};

/// The result of one run (one weight file).
struct ParityReport {
  std::string weights;               ///< the CLIP weight file used
  std::vector<ParityCheck> checks;   ///< one per expected tensor, in file order
  bool passed() const;
};

/// Runs the whole fixture with the CLIP weights of `weights_file` (any container and naming that
/// btadapter/io reads) plus `<dir>/adapter.safetensors`.
ParityReport run_parity(const ParityFixture& fixture, const std::string& weights_file);

}  // namespace btadapter
