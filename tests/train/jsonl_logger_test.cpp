#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

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

// A resume from step 3 after a kill: records of steps 4-5 and the torn line the kill cut off go, a
// record without a step (and every record up to 3, validation included) stays, in order.
TEST(JsonlLogger, TruncatingForAResumeKeepsTheRecordsUpToTheResumedStep) {
  btadapter::testing::TempDir dir;
  const std::string path = (dir / "train_log.jsonl").string();
  {
    JsonlLogger log(path);
    for (int64_t step = 1; step <= 5; ++step) log.write({{"step", step}, {"loss", 1.0 / static_cast<double>(step)}});
    log.write({{"step", int64_t{3}}, {"val_r1", 50.0}});
    log.write({{"note", std::string("no step")}});
  }
  std::ofstream(path, std::ios::app) << "{\"step\":6,\"lo";  // cut mid-record, no newline
  const LogTruncation t = truncate_log_after(path, 3);
  EXPECT_EQ(t.kept, 5);
  EXPECT_EQ(t.dropped, 2);
  EXPECT_EQ(t.torn, 1);
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{R"({"step":1,"loss":1.0})", R"({"step":2,"loss":0.5})",
                                             R"({"step":3,"loss":0.3333333333333333})", R"({"step":3,"val_r1":50.0})",
                                             R"({"note":"no step"})"}));

  JsonlLogger resumed(path);  // the replayed steps now appear once
  resumed.write({{"step", int64_t{4}}});
  const LogTruncation again = truncate_log_after(path, 4);
  EXPECT_EQ(again.kept, 6);
  EXPECT_EQ(again.dropped + again.torn, 0);
  EXPECT_EQ(truncate_log_after((dir / "none.jsonl").string(), 0).kept, 0);  // a fresh run has no log
  EXPECT_FALSE(std::filesystem::exists(dir / "none.jsonl"));
}
