// The recognition runner and bt_eval_recognition: class names and prompt templates, a brute-force
// re-computation of scores and accuracies, bad input.
#include "btadapter/eval/recognition_eval.h"

#include "../api/api_test_helpers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace btadapter::eval {
namespace {

using namespace btadapter::testing;
using btadapter::testing::expect_error;
namespace fs = std::filesystem;

/// Five videos of three classes in a UCF101-style list (tab-separated, 1-based labels).
struct RecognitionFixture {
  TempDir dir;
  std::string list = (dir / "test.tsv").string();
  std::string classes = (dir / "classes.txt").string();
  std::string root = (dir / "videos").string();
  std::vector<int64_t> labels{0, 1, 2, 2, 1};
  RecognitionFixture() {
    fs::create_directories(root);
    std::string rows;
    for (size_t i = 0; i < labels.size(); ++i) {
      write_test_video(root + "/v" + std::to_string(i) + ".mp4", static_cast<int64_t>(i) + 10);
      rows += "v" + std::to_string(i) + ".mp4\t" + std::to_string(labels[i] + 1) + "\n";
    }
    write_text(list, rows);
    write_text(classes, "ApplyEyeMakeup\nbrush_hair\nYoYo\n");
  }
};

TEST(RecognitionEval, ClassNamesAndTemplates) {
  EXPECT_EQ(humanize_class_name("ApplyEyeMakeup"), "apply eye makeup");
  EXPECT_EQ(humanize_class_name("brush_hair"), "brush hair");
  EXPECT_EQ(humanize_class_name("YoYo"), "yo yo");
  EXPECT_EQ(humanize_class_name("air drumming"), "air drumming");
  EXPECT_EQ(humanize_class_name("PlayingDaf2"), "playing daf2");
  EXPECT_EQ(class_prompts({"a", "b"}, {}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(class_prompts({"a", "b"}, {"x {}", "{} y"}), (std::vector<std::string>{"x a", "a y", "x b", "b y"}));
  expect_error([] { class_prompts({"a"}, {"no slot"}); }, "prompt template 'no slot' has no '{}'");
}

TEST(RecognitionEval, MatchesABruteForceEvaluation) {
  RecognitionFixture f;
  const auto model = Model::load(tiny_official(), tiny_options());
  const std::vector<std::string> templates{"a video of {}.", "{}"};
  auto options = RecognitionEvalOptions(f.list, "ucf101", f.classes)
                     .root(f.root)
                     .templates(templates)
                     .humanize_names(true)
                     .video(VideoOptions().num_frames(4).batch_size(2));
  const auto r = run_recognition_eval(*model, options);
  EXPECT_EQ(r.prompts.size(), 6u);
  EXPECT_EQ(r.prompts[0], "a video of apply eye makeup.");
  EXPECT_TRUE(torch::equal(r.labels, torch::tensor(f.labels, torch::kLong)));

  // By hand: average the normalised template embeddings per class, renormalise, score every video.
  std::vector<torch::Tensor> class_rows;
  for (const std::string name : {"apply eye makeup", "brush hair", "yo yo"}) {
    const auto e = model->encode_texts({"a video of " + name + ".", name}).to(torch::kDouble);
    const auto mean = e.mean(0);
    class_rows.push_back(mean / mean.norm());
  }
  std::vector<std::string> paths;
  for (size_t i = 0; i < f.labels.size(); ++i) paths.push_back(f.root + "/v" + std::to_string(i) + ".mp4");
  const auto videos = model->encode_videos(paths, VideoOptions().num_frames(4)).to(torch::kDouble);
  const auto scores = videos.matmul(torch::stack(class_rows).t());
  BT_EXPECT_CLOSE(r.scores, scores, 1e-5, 0);
  int64_t top1 = 0;
  std::vector<double> class_correct(3, 0), class_count(3, 0);
  for (size_t i = 0; i < f.labels.size(); ++i) {
    const int64_t rank = (scores[i] >= scores[i][f.labels[i]]).sum().item<int64_t>();
    top1 += rank == 1;
    class_correct[f.labels[i]] += rank == 1;
    class_count[f.labels[i]] += 1;
  }
  EXPECT_DOUBLE_EQ(r.metrics.accuracy_at(1), 100.0 * top1 / 5);
  EXPECT_DOUBLE_EQ(r.metrics.accuracy_at(5), 100.0);  // 3 classes: always within the top 5
  double mean_class = 0;
  for (int c = 0; c < 3; ++c) mean_class += class_correct[c] / class_count[c] / 3 * 100;
  EXPECT_NEAR(r.metrics.mean_class_accuracy, mean_class, 1e-9);
}

TEST(RecognitionEval, BadInputsGiveClearErrors) {
  RecognitionFixture f;
  const auto model = Model::load(tiny_clip(), tiny_options());
  write_text((f.dir / "two.txt").string(), "a\nb\n");  // label 3 is out of range
  expect_error(
      [&] {
        run_recognition_eval(*model,
                             RecognitionEvalOptions(f.list, "ucf101", (f.dir / "two.txt").string()).root(f.root));
      },
      "test.tsv");
  expect_error([&] { run_recognition_eval(*model, RecognitionEvalOptions(f.list, "ucf-101", f.classes)); }, "ucf-101");
}

TEST(BtEvalRecognition, EndToEnd) {
  RecognitionFixture f;
  const std::string out = (f.dir / "results.json").string();
  const auto r = run_command(tool_path("bt_eval_recognition").string() + " -m " + tiny_clip() + " --vocab " +
                             clip_vocab() + " --vision-heads 4 --text-heads 2 -d ucf101 -a " + f.list + " -c " +
                             f.classes + " -r " + f.root + " --frames 4 -t 'a video of a person {}.' --humanize-names -o " +
                             out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("UCF101"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("videos 5, classes 3, prompts 3"), std::string::npos) << r.output;
  const auto json = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(json["dataset"], "ucf101");
  EXPECT_TRUE(json["recognition"].contains("top1"));
  EXPECT_EQ(json["config"]["templates"][0], "a video of a person {}.");

  const auto wrong_task = run_command(tool_path("bt_eval_recognition").string() + " -m " + tiny_clip() +
                                      " -d msrvtt -a " + f.list + " -c " + f.classes);
  EXPECT_NE(wrong_task.exit_code, 0);
  EXPECT_EQ(wrong_task.output,
            "bt_eval_recognition: dataset preset 'msrvtt' is for retrieval (bt_eval_retrieval)\n");
}

}  // namespace
}  // namespace btadapter::eval
