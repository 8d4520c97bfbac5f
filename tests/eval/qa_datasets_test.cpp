// QA dataset readers on small files in each official layout, the ActivityNet join, video lookup, and
// the errors naming file, row and field.
#include <gtest/gtest.h>

#include "btadapter/eval/qa_datasets.h"
#include "support/test_support.h"

#include <nlohmann/json.hpp>

#include <fstream>

using btadapter::testing::expect_error;
using btadapter::testing::TempDir;
using namespace btadapter::eval;

namespace {

std::string write_qa_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(QaDatasets, MsvdAndMsrvttRowsWithEitherFieldName) {
  TempDir dir;
  const std::string path = write_qa_file(dir, "msvd.json", R"([
    {"video_name": "a.avi", "question": "what is he doing?", "answer": "cook", "question_id": 7},
    {"video": "b.mp4", "question": "who runs?", "answer": "dog", "id": "q2"}])");
  for (QaFormat format : {QaFormat::kMsvdQa, QaFormat::kMsrvttQa}) {
    const std::vector<QaItem> items = read_qa_dataset(format, path);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].video_name, "a.avi");
    EXPECT_TRUE(items[0].video_extensions.empty());
    EXPECT_EQ(items[0].questions, std::vector<std::string>{"what is he doing?"});
    EXPECT_EQ(items[0].answer, "cook");
    EXPECT_EQ(items[0].key, "7");
    EXPECT_EQ(nlohmann::json::parse(items[0].record_json),
              nlohmann::json::parse(R"({"id": 7, "question": "what is he doing?", "answer": "cook"})"));
    EXPECT_EQ(items[1].video_name, "b.mp4");
    EXPECT_EQ(items[1].key, "\"q2\"");
    EXPECT_EQ(items[1].row, 1);
  }
}

TEST(QaDatasets, ActivityNetJoinsAnswersByQuestionId) {
  TempDir dir;
  const std::string questions = write_qa_file(dir, "q.json", R"([
    {"video_name": "abc", "question": "is it day", "question_id": "v_abc_0"},
    {"video_name": "xyz", "question": "how many", "question_id": "v_xyz_1"}])");
  const std::string answers = write_qa_file(dir, "a.json", R"([
    {"answer": "3", "type": 4, "question_id": "v_xyz_1"},
    {"answer": "yes", "type": 3, "question_id": "v_abc_0"}])");
  const std::vector<QaItem> items = read_qa_dataset(QaFormat::kActivityNetQa, questions, answers);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].video_name, "v_abc");
  EXPECT_EQ(items[0].answer, "yes");
  EXPECT_EQ(items[1].answer, "3");
  EXPECT_EQ(items[0].video_extensions, (std::vector<std::string>{".mp4", ".avi", ".mov", ".mkv"}));

  std::ofstream(dir / "v_abc.mkv") << "x";
  std::ofstream(dir / "v_abc.mov") << "x";
  EXPECT_EQ(find_qa_video(items[0], dir.path().string()), (dir / "v_abc.mov").string());  // official order
  EXPECT_FALSE(find_qa_video(items[1], dir.path().string()).has_value());

  const std::string partial = write_qa_file(dir, "a2.json", R"([{"answer": "yes", "question_id": "v_abc_0"}])");
  expect_error([&] { read_qa_dataset(QaFormat::kActivityNetQa, questions, partial); },
               "q.json row 1: question_id \"v_xyz_1\" has no answer in " + partial);
  expect_error([&] { read_qa_dataset(QaFormat::kActivityNetQa, questions); }, "activitynet-qa expects an answer file");
  expect_error([&] { read_qa_dataset(QaFormat::kMsvdQa, questions, answers); }, "msvd-qa takes no answer file");
}

TEST(QaDatasets, BenchmarkFilesKeepTheWholeRow) {
  TempDir dir;
  const std::string generic = write_qa_file(dir, "generic.json", R"([
    {"video_name": "v1", "Q": "describe it", "A": "a man cooks", "extra": 1},
    {"video_name": "v1", "Q": "describe it", "A": "a man cooks"}])");
  const std::vector<QaItem> items = read_qa_dataset(QaFormat::kBenchmarkTemporal, generic);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].key, items[1].key);  // same video and question: resumed by count
  EXPECT_EQ(nlohmann::json::parse(items[0].record_json)["extra"], 1);
  std::ofstream(dir / "v1.mp4") << "x";
  EXPECT_EQ(find_qa_video(items[0], dir.path().string()), (dir / "v1.mp4").string());

  const std::string consistency = write_qa_file(dir, "c.json", R"([{"video_name": "v2", "Q1": "a?", "Q2": "b?", "A": "c"}])");
  const std::vector<QaItem> pairs = read_qa_dataset(QaFormat::kBenchmarkConsistency, consistency);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].questions, (std::vector<std::string>{"a?", "b?"}));
  EXPECT_NE(pairs[0].key, items[0].key);
}

TEST(QaDatasets, ErrorsNameFileRowAndField) {
  TempDir dir;
  expect_error([&] { read_qa_dataset(QaFormat::kMsvdQa, (dir / "none.json").string()); },
               "QA dataset: file not found: " + (dir / "none.json").string());
  const std::string bad_json = write_qa_file(dir, "bad.json", "[{\"video\": ");
  expect_error([&] { read_qa_dataset(QaFormat::kMsvdQa, bad_json); }, "bad.json: expected JSON, got a parse error");
  const std::string not_list = write_qa_file(dir, "obj.json", R"({"video": "a"})");
  expect_error([&] { read_qa_dataset(QaFormat::kMsvdQa, not_list); }, "expected a JSON list of objects, got object");
  const std::string missing = write_qa_file(dir, "m.json", R"([
    {"video": "a.mp4", "question": "q", "answer": "a", "id": 1},
    {"video": "b.mp4", "question": "q", "id": 2}])");
  expect_error([&] { read_qa_dataset(QaFormat::kMsrvttQa, missing); }, "m.json row 1: expected field \"answer\", got none");
  const std::string typed = write_qa_file(dir, "t.json", R"([{"video_name": 3, "question": "q", "answer": "a", "id": 1}])");
  expect_error([&] { read_qa_dataset(QaFormat::kMsvdQa, typed); },
               "t.json row 0: expected field \"video_name\" to be a string, got number");
  const std::string no_id = write_qa_file(dir, "i.json", R"([{"video": "a", "question": "q", "answer": "a"}])");
  expect_error([&] { read_qa_dataset(QaFormat::kMsvdQa, no_id); }, "expected field \"question_id\" or \"id\", got none");
  const std::string no_q2 = write_qa_file(dir, "c.json", R"([{"video_name": "v", "Q1": "a", "A": "c"}])");
  expect_error([&] { read_qa_dataset(QaFormat::kBenchmarkConsistency, no_q2); }, "c.json row 0: expected field \"Q2\"");
  expect_error([] { btadapter::enum_from_name<QaFormat>("nextqa"); }, "got 'nextqa'");
  EXPECT_EQ(btadapter::enum_from_name<QaFormat>("benchmark-consistency"), QaFormat::kBenchmarkConsistency);
  EXPECT_STREQ(btadapter::enum_name(btadapter::enum_from_name<QaFormat>("activitynet-qa")), "activitynet-qa");
}
