#include <gtest/gtest.h>

#include <fstream>
#include <limits>

#include "btadapter/train/jsonl_logger.h"
#include "support/test_support.h"

using namespace btadapter::train;
using btadapter::testing::expect_error;

TEST(JsonlLogger, OrderedFieldsAndNullForNonFinite) {
  LogRecord record{{"step", int64_t{12}},
                   {"lr", 2e-6},
                   {"loss", std::numeric_limits<double>::quiet_NaN()},
                   {"phase", std::string("train \"a\"")},
                   {"skipped_step", true}};
  EXPECT_EQ(to_json_line(record), R"({"step":12,"lr":2e-06,"loss":null,"phase":"train \"a\"","skipped_step":true})");
}

TEST(JsonlLogger, AppendsOneFlushedLinePerRecord) {
  btadapter::testing::TempDir dir;
  const std::string path = (dir / "run/train_log.jsonl").string();
  {
    JsonlLogger log(path);
    log.write({{"step", int64_t{1}}});
    std::ifstream in(path);  // flushed: readable before the logger closes
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line, R"({"step":1})");
  }
  JsonlLogger resumed(path);  // a resumed run continues the same file
  resumed.write({{"step", int64_t{2}}});
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "{\"step\":1}\n{\"step\":2}\n");
}

TEST(JsonlLogger, UnwritablePathIsAnError) {
  btadapter::testing::TempDir dir;
  std::ofstream((dir / "file").string()) << "x";
  // std::filesystem names the path it could not create.
  expect_error([&] { JsonlLogger((dir / "file/sub/log.jsonl").string()); }, (dir / "file/sub").string());
}
