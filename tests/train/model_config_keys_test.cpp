#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "btadapter/train/train_config.h"
#include "config/model_config_fields.h"

using namespace btadapter;

// The model.* keys come from the same field list as the JSON codec: every field, changed from its
// default, survives the resolved YAML and a --set of its own value.
TEST(TrainConfigModelKeys, YamlRoundTripOfEveryChangedField) {
  train::TrainConfig config;
  config.model.config = btadapter::testing::model_config_with_every_field_changed();
  const train::TrainConfig back = train::train_config_from_yaml(train::train_config_to_yaml(config));
  btadapter::testing::expect_same_model_fields(back.model.config, config.model.config);
}

TEST(TrainConfigModelKeys, EveryFieldIsSettableByItsDottedKey) {
  const ModelConfig changed = btadapter::testing::model_config_with_every_field_changed();
  const nlohmann::json json = nlohmann::json::parse(model_config_to_json(changed));
  train::TrainConfig config;
  for_each_model_field([&](const char* key, auto, const char*) {
    std::string pointer = std::string("/") + key;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    train::apply_override(config, std::string("model.") + key + "=" + json.at(nlohmann::json::json_pointer(pointer)).dump());
  });
  btadapter::testing::expect_same_model_fields(config.model.config, changed);
}
