// The official-config mapping covers every ModelConfig field, and each official key it names is both read
// (removing it is an error naming it) and read into the field its row says.
#include <gtest/gtest.h>

#include "btadapter/parity/model_parity.h"
#include "support/test_support.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <type_traits>

using btadapter::ParitySource;
using btadapter::testing::expect_error;
using btadapter::testing::fixture_path;
using nlohmann::json;

namespace {

const char* const kFixtures[] = {"parity/tiny_a", "parity/tiny_a_add"};  // learned gates, plain addition

json fixture_config(const std::string& fixture) {
  std::ifstream in(fixture_path(fixture) / "config.json");
  return json::parse(in);
}

json::json_pointer pointer_of(const std::string& dotted) {
  return json::json_pointer("/" + dotted.substr(0, dotted.find('.')) + "/" + dotted.substr(dotted.find('.') + 1));
}

void expect_official_values(const json& config, const btadapter::ModelConfig& model) {
  size_t compared = 0;
  btadapter::for_each_model_field([&](const char* key, auto access, auto&&...) {
    for (const auto& row : btadapter::parity_field_sources()) {
      if (std::string(row.key) != key || row.source != ParitySource::kOfficialKey) continue;
      const json& value = config.at(pointer_of(row.official));
      using T = std::decay_t<decltype(access(model))>;
      if constexpr (std::is_arithmetic_v<T>) {
        if (value.is_null()) continue;  // an additive fusion's unused gate scales keep their defaults
        EXPECT_EQ(access(model), value.get<T>()) << key << " from " << row.official;
        ++compared;
      } else {
        ADD_FAILURE() << key << " is mapped from an official key but is not a number";
      }
    }
  });
  EXPECT_GE(compared, 15u);
}


}  // namespace

TEST(ParityFields, OneRowPerModelFieldInItsOrder) {
  std::vector<std::string> fields;
  btadapter::for_each_model_field([&](const char* key, auto&&...) { fields.emplace_back(key); });
  std::vector<std::string> rows;
  for (const auto& row : btadapter::parity_field_sources()) rows.emplace_back(row.key);
  EXPECT_EQ(rows, fields) << "every ModelConfig field needs one row in parity_field_sources(): mapped from an "
                             "official key, derived, or declared not in the official config";
}

TEST(ParityFields, EveryOfficialKeyIsRequired) {
  for (const auto& row : btadapter::parity_field_sources()) {
    if (row.source != ParitySource::kOfficialKey) continue;
    json config = fixture_config(kFixtures[0]);
    const std::string path = row.official;
    config[pointer_of(path).parent_pointer()].erase(path.substr(path.find('.') + 1));
    btadapter::testing::TempDir dir;
    std::ofstream(dir.path() / "config.json") << config.dump();
    expect_error([&] { btadapter::read_parity_fixture(dir.path().string()); },
                 "expected key '" + path.substr(path.find('.') + 1) + "'");
  }
}

TEST(ParityFields, EveryOfficialKeyReachesItsField) {
  for (const std::string fixture : kFixtures) {
    SCOPED_TRACE(fixture);
    const json config = fixture_config(fixture);
    const auto model = btadapter::read_parity_fixture(fixture_path(fixture).string()).model;
    expect_official_values(config, model);
  }
}
