// Reading a parity fixture's config.json (the official code's names) into ParityFixture. The model part
// is driven by one table, parity_field_sources(), with a row for every ModelConfig field.
#include "btadapter/parity/model_parity.h"

#include "parity/fixture_json.h"

#include <cstring>
#include <type_traits>

namespace btadapter {
namespace {

using nlohmann::json;

using parity_detail::fixture_member;
using parity_detail::fixture_number;

// `path` is "section.key" (every official key the harness reads sits one level down).
const json& at_path(const json& config, const std::string& path, const std::string& file) {
  const auto dot = path.find('.');
  return fixture_member(fixture_member(config, path.substr(0, dot), file), path.substr(dot + 1), file);
}

template <typename T>
T number_at(const json& config, const std::string& path, const std::string& file) {
  return parity_detail::fixture_number_value<T>(at_path(config, path, file), path, file);
}

using Derive = void (*)(ModelConfig&, const json&, const std::string&);

struct FieldRule {
  ParityFieldSource row;
  Derive derive = nullptr;  ///< kDerived, and kHarness rows that set a value; null: read or keep the default
  bool nullable = false;    ///< kOfficialKey: null keeps the default (the gates of an additive fusion)
};

// out_norm and middle_norm are numbers for learned gates and both null for plain addition.
void derive_fusion(ModelConfig& c, const json& config, const std::string& file) {
  const bool out_null = at_path(config, "btadapter.out_norm", file).is_null();
  TORCH_CHECK(out_null == at_path(config, "btadapter.middle_norm", file).is_null(), file,
              ": expected btadapter.out_norm and middle_norm both numbers (learned gates) or both null (addition)");
  c.adapter.fusion = out_null ? FusionMode::kAdd : FusionMode::kLearned;
}

const std::vector<FieldRule>& field_rules() {
  using S = ParitySource;
  static const std::vector<FieldRule> rules = {
      {{"embed_dim", S::kOfficialKey, "model.embed_dim"}},
      {{"vision.width", S::kOfficialKey, "model.vision_width"}},
      {{"vision.layers", S::kOfficialKey, "model.vision_layers"}},
      {{"vision.heads", S::kOfficialKey, "model.vision_heads"}},
      {{"vision.patch_size", S::kOfficialKey, "model.patch_size"}},
      {{"vision.image_size", S::kOfficialKey, "model.image_size"}},
      {{"vision.mlp_dim", S::kDerived, "model.mlp_ratio * model.vision_width"},
       [](ModelConfig& c, const json& j, const std::string& f) {
         c.vision.mlp_dim = number_at<int64_t>(j, "model.mlp_ratio", f) * number_at<int64_t>(j, "model.vision_width", f);
       }},
      {{"vision.layer_norm_eps", S::kOfficialKey, "model.layer_norm_eps"}},
      {{"text.vocab_size", S::kOfficialKey, "model.vocab_size"}},
      {{"text.width", S::kOfficialKey, "model.text_width"}},
      {{"text.layers", S::kOfficialKey, "model.text_layers"}},
      {{"text.heads", S::kOfficialKey, "model.text_heads"}},
      {{"text.context_length", S::kOfficialKey, "model.context_length"}},
      {{"text.mlp_dim", S::kDerived, "model.mlp_ratio * model.text_width"},
       [](ModelConfig& c, const json& j, const std::string& f) {
         c.text.mlp_dim = number_at<int64_t>(j, "model.mlp_ratio", f) * number_at<int64_t>(j, "model.text_width", f);
       }},
      {{"text.layer_norm_eps", S::kOfficialKey, "model.layer_norm_eps"}},
      {{"text.pooling", S::kHarness, "CLIP's argmax of ids (the fixtures use CLIP BPE ids)"}},
      {{"text.eos_id", S::kHarness, "unused by argmax pooling"}},
      {{"adapter.depth", S::kOfficialKey, "btadapter.depth"}},
      {{"adapter.fusion", S::kDerived, "learned when btadapter.out_norm/middle_norm are numbers, add when null"},
       derive_fusion},
      {{"adapter.out_norm", S::kOfficialKey, "btadapter.out_norm"}, nullptr, true},
      {{"adapter.middle_norm", S::kOfficialKey, "btadapter.middle_norm"}, nullptr, true},
      {{"adapter.max_frames", S::kOfficialKey, "btadapter.time_embed_rows"}},
      {{"adapter.drop_path", S::kHarness, "0: the fixtures disable drop path so the training pass is deterministic"},
       [](ModelConfig& c, const json&, const std::string&) { c.adapter.drop_path = 0.0; }},
      {{"adapter.mask_layout", S::kHarness, "official: the fixture masks are in the released code's (t l) layout"},
       [](ModelConfig& c, const json&, const std::string&) { c.adapter.mask_layout = MaskLayout::kOfficial; }},
      {{"adapter.mask_ratio", S::kOfficialKey, "training.mask_rate"}},
      {{"tokenizer.kind", S::kHarness, "unused: the fixtures give token ids"}},
      {{"tokenizer.vocab", S::kHarness, "unused: the fixtures give token ids"}},
      {{"tokenizer.context_length", S::kHarness, "unused: the fixtures give token ids"}},
      {{"tokenizer.truncate", S::kHarness, "unused: the fixtures give token ids"}},
      {{"tokenizer.bos_id", S::kHarness, "unused: the fixtures give token ids"}},
      {{"tokenizer.eos_id", S::kHarness, "unused: the fixtures give token ids"}},
  };
  return rules;
}

const FieldRule& rule_for(const char* key) {
  for (const auto& rule : field_rules()) {
    if (std::strcmp(rule.row.key, key) == 0) return rule;
  }
  TORCH_CHECK(false, "parity: expected a row for model field '", key, "' in parity_field_sources()");
}

template <typename T>
void read_official(const FieldRule& rule, T& field, const json& config, const std::string& file) {
  if constexpr (std::is_arithmetic_v<T>) {
    if (rule.nullable && at_path(config, rule.row.official, file).is_null()) return;
    field = number_at<T>(config, rule.row.official, file);
  } else {
    TORCH_CHECK(false, "parity: model field '", rule.row.key, "' is not a number and cannot be an official key");
  }
}

ModelConfig read_model_config(const json& config, const std::string& file) {
  ModelConfig c;
  for_each_model_field([&](const char* key, auto access, auto&&...) {
    const FieldRule& rule = rule_for(key);
    if (rule.row.source == ParitySource::kOfficialKey) read_official(rule, access(c), config, file);
    if (rule.derive != nullptr) rule.derive(c, config, file);
  });
  const json& bt = fixture_member(config, "btadapter", file);
  if (bt.contains("adapter_heads")) {
    TORCH_CHECK(fixture_number<int64_t>(bt, "adapter_heads", file) == c.vision.heads, file,
                ": expected btadapter.adapter_heads to equal model.vision_heads (the branch reuses CLIP's config)");
  }
  validate(c);
  return c;
}

// The recogniser string carries the loss weights as `pretrain={"branch_text_nce": 0.1, ...}`.
void read_loss_weights(const json& training, ParityFixture& f, const std::string& file) {
  if (!training.contains("recognizer")) return;
  const std::string text = training.at("recognizer").get<std::string>();
  const auto start = text.find("pretrain=");
  if (start == std::string::npos) return;
  const auto open = text.find('{', start), close = text.find('}', start);
  TORCH_CHECK(open != std::string::npos && close != std::string::npos, file, ": unreadable pretrain={...} in ",
              "training.recognizer");
  const json weights = json::parse(text.substr(open, close - open + 1));
  f.mbca_weight = weights.value("branch_text_nce", f.mbca_weight);
  f.mbta_weight = weights.value("clip_branch_mask_mse_extra", f.mbta_weight);
}

}  // namespace

const std::vector<ParityFieldSource>& parity_field_sources() {
  static const std::vector<ParityFieldSource> rows = [] {
    std::vector<ParityFieldSource> out;
    for (const auto& rule : field_rules()) out.push_back(rule.row);
    return out;
  }();
  return rows;
}

ParityFixture read_parity_fixture(const std::string& dir) {
  const std::string file = dir + "/config.json";
  const json j = parity_detail::read_fixture_json(file, "parity");
  ParityFixture f;
  f.dir = dir;
  f.model = read_model_config(j, file);
  f.frames = number_at<int64_t>(j, "btadapter.num_frames", file);
  const json& training = fixture_member(j, "training", file);
  f.logit_scale = fixture_number<double>(training, "logit_scale", file);
  read_loss_weights(training, f, file);
  const json& tolerance = fixture_member(j, "tolerance", file);
  f.forward = parity_detail::fixture_tolerance(tolerance, "forward", file);
  f.loss = parity_detail::fixture_tolerance(tolerance, "loss", file);
  f.grad = parity_detail::fixture_tolerance(tolerance, "grad", file);
  return f;
}

}  // namespace btadapter
