#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "btadapter/eval/results_json.h"
#include "support/test_support.h"

using namespace btadapter::eval;
using btadapter::testing::expect_error;

namespace {

EvalResults retrieval_results() {
  // t2v ranks [2, 2, 3] and v2t ranks [2, 3, 1] (see retrieval_metrics_test HandMadeTies).
  auto sim = torch::tensor({1.0, 1.0, 0.0, 0.0, 1.0, 2.0, 5.0, 5.0, 5.0}).view({3, 3});
  EvalResults r;
  r.dataset = "msrvtt-1ka";
  r.model_path = "/models/bt.safetensors";
  r.model_sha256 = std::string(64, 'a');
  r.config_json = R"({"frames": 12, "text_length": 32})";
  r.videos_skipped = 2;
  r.skipped_videos = {"video1.mp4", "bad\xff.mp4"};
  r.retrieval = compute_retrieval_metrics(sim);
  return r;
}

}  // namespace

TEST(ResultsJson, RetrievalRecordHoldsEverything) {
  auto j = nlohmann::json::parse(results_to_json(retrieval_results()));
  EXPECT_EQ(j["dataset"], "msrvtt-1ka");
  EXPECT_EQ(j["model"]["sha256"], std::string(64, 'a'));
  EXPECT_EQ(j["counts"]["videos_skipped"], 2);
  EXPECT_EQ(j["counts"]["skipped_videos"][0], "video1.mp4");
  EXPECT_EQ(j["counts"]["skipped_videos"][1], "bad\xef\xbf\xbd.mp4") << "invalid UTF-8 is replaced, not fatal";
  EXPECT_EQ(j["counts"]["texts"], 3);
  EXPECT_EQ(j["counts"]["videos"], 3);
  const auto& ret = j["retrieval"];
  EXPECT_EQ(ret["protocol"], "t2v+v2t, ties=pessimistic, dsl=off");
  EXPECT_EQ(ret["ties"], "pessimistic");
  EXPECT_EQ(ret["dual_softmax"], false);
  EXPECT_EQ(ret["official_compat"], false);
  EXPECT_EQ(ret["t2v"]["R@1"], 0.0);
  EXPECT_EQ(ret["t2v"]["R@5"], 100.0);
  EXPECT_EQ(ret["t2v"]["MdR"], 2.0);
  EXPECT_DOUBLE_EQ(ret["t2v"]["MnR"].get<double>(), 7.0 / 3.0);
  EXPECT_EQ(ret["t2v"]["queries"], 3);
  EXPECT_DOUBLE_EQ(ret["v2t"]["R@1"].get<double>(), 100.0 / 3.0);
  EXPECT_EQ(j["config"]["frames"], 12);
  EXPECT_FALSE(j.contains("recognition"));
}

TEST(ResultsJson, RecognitionRecordAndFile) {
  EvalResults r;
  r.dataset = "ucf101";
  auto scores = torch::tensor({0.9, 0.1, 0.0, 0.5, 0.2, 0.7, 0.1, 0.4, 0.4}).view({3, 3});
  r.recognition = compute_recognition_metrics(scores, torch::tensor({0, 1, 1}, torch::kLong));
  btadapter::testing::TempDir dir;
  const auto path = (dir / "results.json").string();
  write_results_json(r, path);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), results_to_json(r));
  auto j = nlohmann::json::parse(text.str());
  EXPECT_DOUBLE_EQ(j["recognition"]["top1"].get<double>(), 100.0 / 3.0);
  EXPECT_EQ(j["recognition"]["top5"], 100.0);
  EXPECT_EQ(j["recognition"]["mean_class_accuracy"], 50.0);
  EXPECT_EQ(j["recognition"]["classes_present"], 2);
  EXPECT_EQ(j["counts"]["samples"], 3);
  EXPECT_EQ(j["counts"]["classes"], 3);
  EXPECT_TRUE(j["config"].is_object());
  // Only the results file: no temporary file left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

TEST(ResultsJson, ExtraSectionsFollowTheConfig) {
  auto r = retrieval_results();
  r.sections_json = R"({"direction": {"accuracy": 75.0}})";
  const auto j = nlohmann::ordered_json::parse(results_to_json(r));
  EXPECT_EQ(j["direction"]["accuracy"], 75.0);
  EXPECT_EQ(std::prev(j.end()).key(), "direction");
}

TEST(ResultsJson, BadRecordsAreNamed) {
  EvalResults none;
  none.dataset = "lsmdc";
  expect_error([&] { results_to_json(none); },
               "expected retrieval or recognition metrics in the results of dataset 'lsmdc'");
  auto r = retrieval_results();
  r.config_json = "[1, 2]";
  expect_error([&] { results_to_json(r); }, "expected config_json to be a JSON object, got array");
  r.config_json = "{frames: 12}";
  expect_error([&] { results_to_json(r); }, "parse error");
  r = retrieval_results();
  r.sections_json = R"({"counts": 1})";
  expect_error([&] { results_to_json(r); }, "keys other than the record's own, got 'counts'");
  btadapter::testing::TempDir dir;
  const auto not_a_folder = (dir / "file").string();
  std::ofstream(not_a_folder) << "x";
  expect_error([&] { write_results_json(retrieval_results(), not_a_folder + "/x.json"); },
               "cannot write '" + not_a_folder + "/x.json'");
}
