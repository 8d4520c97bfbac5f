// QA prediction files: the official record layout per dataset, resume (answered ids skipped, new
// records appended), bad videos skipped and counted, and the labelled offline score.
#include <gtest/gtest.h>

#include "btadapter/eval/qa_predictions.h"
#include "support/test_support.h"

#include <nlohmann/json.hpp>

#include <fstream>

using btadapter::testing::expect_error;
using btadapter::testing::TempDir;
using namespace btadapter::eval;
using nlohmann::json;

namespace {

json read_predictions(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::vector<QaItem> three_msvd_items(const TempDir& dir) {
  const std::string path = (dir / "msvd.json").string();
  std::ofstream(path) << R"([
    {"video_name": "a.avi", "question": "what is cut?", "answer": "tomato", "question_id": 1},
    {"video_name": "b.avi", "question": "who sings?", "answer": "woman", "question_id": 2},
    {"video_name": "c.avi", "question": "what runs?", "answer": "dog", "question_id": 3}])";
  for (const char* video : {"a.avi", "b.avi", "c.avi"}) std::ofstream(dir / video) << "x";
  return read_qa_dataset(QaFormat::kMsvdQa, path);
}

}  // namespace

TEST(QaPredictions, AnswerInPredictionIsWordBoundedAndNormalised) {
  EXPECT_TRUE(answer_in_prediction("Tomato", "The man is slicing a TOMATO."));
  EXPECT_TRUE(answer_in_prediction("hot dog", "He eats a hot-dog!"));
  EXPECT_FALSE(answer_in_prediction("cat", "a category of things"));
  EXPECT_FALSE(answer_in_prediction("hot dog", "a hot and cold dog"));
  EXPECT_FALSE(answer_in_prediction("", "anything"));
  EXPECT_FALSE(answer_in_prediction("?!", "anything"));
}

TEST(QaPredictions, ResumesSkipsAnsweredAndCountsBadVideos) {
  TempDir dir;
  const std::vector<QaItem> items = three_msvd_items(dir);
  const std::string out = (dir / "out" / "pred.json").string();
  std::vector<std::string> asked;
  auto answer = [&](const QaItem& item, const std::string& video) -> std::vector<std::string> {
    asked.push_back(item.questions[0]);
    if (video.find("b.avi") != std::string::npos) throw std::runtime_error("cannot decode video");
    return {"it is a " + item.answer};
  };
  {
    QaPredictionWriter writer(out, QaFormat::kMsvdQa);
    const QaRunSummary first = run_qa_predictions(items, dir.path().string(), writer, answer);
    EXPECT_EQ(first.items, 3);
    EXPECT_EQ(first.answered, 2);
    EXPECT_EQ(first.skipped, 1);
    ASSERT_EQ(first.skipped_reasons.size(), 1u);
    EXPECT_EQ(first.skipped_reasons[0], "b.avi: cannot decode video");
    EXPECT_EQ(writer.offline_score().matched, 2);
  }
  const json written = read_predictions(out);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0], json::parse(R"({"id": 1, "question": "what is cut?", "answer": "tomato", "pred": "it is a tomato"})"));
  EXPECT_EQ(written[1]["id"], 3);

  // Second run: 1 and 3 are answered; b.avi now fails as a missing file.
  std::filesystem::remove(dir / "b.avi");
  asked.clear();
  QaPredictionWriter resumed(out, QaFormat::kMsvdQa);
  EXPECT_EQ(resumed.answered(items), (std::vector<bool>{true, false, true}));
  const QaRunSummary second = run_qa_predictions(items, dir.path().string(), resumed, answer);
  EXPECT_EQ(second.already_answered, 2);
  EXPECT_EQ(second.answered, 0);
  EXPECT_EQ(second.skipped, 1);
  EXPECT_NE(second.skipped_reasons[0].find("b.avi: video not found under "), std::string::npos);
  EXPECT_TRUE(asked.empty());

  // Third run with the video back: only row 2 is asked and appended.
  std::ofstream(dir / "b.avi") << "x";
  auto good = [&](const QaItem& item, const std::string&) -> std::vector<std::string> {
    asked.push_back(item.questions[0]);
    return {"no idea"};
  };
  QaPredictionWriter third(out, QaFormat::kMsvdQa);
  EXPECT_EQ(run_qa_predictions(items, dir.path().string(), third, good).answered, 1);
  EXPECT_EQ(asked, std::vector<std::string>{"who sings?"});
  const json all = read_predictions(out);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2]["id"], 2);
  const QaOfflineScore score = third.offline_score();
  EXPECT_EQ(score.predictions, 3);
  EXPECT_EQ(score.matched, 2);
  EXPECT_EQ(describe(score),
            "offline answer-in-prediction accuracy (not the paper's GPT-scored metric): 66.67% (2/3)");
}

TEST(QaPredictions, BenchmarkRecordsCopyTheRowAndResumeDuplicatesByCount) {
  TempDir dir;
  const std::string path = (dir / "consistency.json").string();
  std::ofstream(path) << R"([
    {"video_name": "v1", "Q1": "what?", "Q2": "what is it?", "A": "a dog"},
    {"video_name": "v1", "Q1": "what?", "Q2": "what is it?", "A": "a dog"}])";
  std::ofstream(dir / "v1.mp4") << "x";
  const std::vector<QaItem> items = read_qa_dataset(QaFormat::kBenchmarkConsistency, path);
  const std::string out = (dir / "pred.json").string();
  int calls = 0;
  auto answer = [&](const QaItem&, const std::string&) -> std::vector<std::string> {
    if (++calls == 2) throw std::runtime_error("interrupted");
    return {"a dog", "a cat"};
  };
  {
    QaPredictionWriter writer(out, QaFormat::kBenchmarkConsistency);
    run_qa_predictions(items, dir.path().string(), writer, answer);
    EXPECT_EQ(writer.size(), 1);
    expect_error([&] { writer.append(items[0], {"one"}); }, "expected 2 prediction(s) for benchmark-consistency row 0, got 1");
  }
  EXPECT_EQ(read_predictions(out)[0],
            json::parse(R"({"video_name": "v1", "Q1": "what?", "Q2": "what is it?", "A": "a dog", "pred1": "a dog", "pred2": "a cat"})"));
  QaPredictionWriter resumed(out, QaFormat::kBenchmarkConsistency);
  EXPECT_EQ(resumed.answered(items), (std::vector<bool>{true, false}));  // one record: the first duplicate only
  EXPECT_EQ(resumed.offline_score().predictions, 2);
  EXPECT_EQ(resumed.offline_score().matched, 1);
}

TEST(QaPredictions, CorruptPreviousOutputIsRejected) {
  TempDir dir;
  const std::string out = (dir / "pred.json").string();
  std::ofstream(out) << "[{\"id\": 1, ";
  expect_error([&] { QaPredictionWriter(out, QaFormat::kMsvdQa); }, "expected the JSON list of a previous run");
  std::ofstream(out) << R"([{"id": 1, "question": "q", "answer": "a"}])";
  expect_error([&] { QaPredictionWriter(out, QaFormat::kMsvdQa); }, "pred.json row 0: expected a string field \"pred\"");
  std::ofstream(out) << R"([{"video_name": "v", "Q": "q", "A": "a", "pred": "p"}])";
  expect_error([&] { QaPredictionWriter(out, QaFormat::kActivityNetQa); }, "row 0: expected a string field \"question\"");
  expect_error([&] { QaPredictionWriter((dir / "x.json").string(), QaFormat::kMsvdQa, 0); }, "expected flush_every >= 1, got 0");
}
