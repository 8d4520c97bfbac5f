// bt_eval_qa: answer a video-QA set with the BT-Adapter video LLM and write the prediction file the
// official GPT-scoring scripts read.
//
//   bt_eval_qa --llm vicuna-7b/ --clip clip-vit-large-patch14/ --adapter sft_btadapter_weight.bin
//       --projector sft_mm_projector.bin --format activitynet-qa --questions test_q.json
//       --answers test_a.json --video-dir videos/ -o predictions/anet.json
//
// Resumable: rows already in the output are skipped and new ones appended (the file is replaced
// atomically). Bad or missing videos are skipped and counted. Prints a JSON summary on stdout with the
// offline answer-in-prediction accuracy, which is NOT the paper's (GPT-scored) metric.
#include "btadapter/eval/qa_predictions.h"

#include "chat_tool_support.h"

#include <nlohmann/json.hpp>

#include <iostream>

int main(int argc, char** argv) {
  using namespace btadapter;
  tools::ChatModelCli cli;
  std::string format, questions, answers, video_dir, output;
  int64_t flush_every = 1;
  bool quiet = false;
  CLI::App app{"Video question answering with the BT-Adapter video LLM: official prediction files."};
  cli.add_to(app);
  app.add_option("--format", format, enum_choices<eval::QaFormat>())
      ->required();
  app.add_option("--questions", questions, "question file (JSON list)")->required();
  app.add_option("--answers", answers, "answer file (activitynet-qa only)");
  app.add_option("--video-dir", video_dir, "folder of the videos")->required();
  app.add_option("-o,--output", output, "prediction file (JSON list; an existing one is resumed)")->required();
  app.add_option("--flush-every", flush_every, "answers between writes of the output")->capture_default_str();
  app.add_flag("-q,--quiet", quiet, "no progress line");
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_eval_qa", [&] {
    const eval::QaFormat qa_format = enum_from_name<eval::QaFormat>(format);
    const std::vector<eval::QaItem> items = eval::read_qa_dataset(qa_format, questions, answers);
    eval::QaPredictionWriter writer(output, qa_format, flush_every);
    cli.configure_runtime();
    const chat::VideoChat model(cli.chat_options());
    const llm::GenerationOptions generation = cli.generation();
    // One video read per row; both consistency questions are asked about the same features.
    auto answer = [&](const eval::QaItem& item, const std::string& video) {
      const torch::Tensor features = model.video_features(chat::VideoInput::file(video));
      std::vector<std::string> predictions;
      for (const std::string& question : item.questions) {
        const std::string prompt =
            text::video_question_prompt(model.conversation_template(), question, model.video_token_count());
        predictions.push_back(model.answer_prompt(prompt, features, generation).text);
      }
      return predictions;
    };
    const tools::ProgressLine progress("questions");
    const auto start = std::chrono::steady_clock::now();
    std::function<void(int64_t, int64_t)> on_item;
    if (!quiet) on_item = [&](int64_t done, int64_t total) { progress(done, total); };
    const eval::QaRunSummary summary = eval::run_qa_predictions(items, video_dir, writer, answer, on_item);
    for (const std::string& reason : summary.skipped_reasons) std::cerr << "skipped " << reason << std::endl;
    const eval::QaOfflineScore score = writer.offline_score();
    const nlohmann::json report = {
        {"output", output},
        {"format", format},
        {"rows", summary.items},
        {"already_answered", summary.already_answered},
        {"answered", summary.answered},
        {"skipped", summary.skipped},
        {"records", writer.size()},
        {"offline_score",
         {{"label", "offline answer-in-prediction accuracy (not the paper's GPT-scored metric)"},
          {"predictions", score.predictions},
          {"matched", score.matched},
          {"accuracy", score.accuracy}}},
        {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
    std::cerr << eval::describe(score) << std::endl;
    std::cout << report.dump() << std::endl;
    return 0;
  });
}
