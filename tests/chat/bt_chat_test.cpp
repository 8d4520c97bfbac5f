// bt_chat and bt_eval_qa end to end on the tiny fixture model and generated videos: the tools' answers
// equal the library's; the interactive session keeps and resets history; bt_eval_qa writes the official
// prediction layout, resumes without re-asking, and counts a bad video.
#include <gtest/gtest.h>

#include "chat/tiny_video_chat.h"

#include <fstream>
#include <sstream>

using namespace btadapter;
using btadapter::testing::run_command;
using btadapter::testing::TempDir;
using btadapter::testing::tool_path;

namespace {

// The common model flags of both tools for the fixture files.
std::string tiny_model_flags(const chat::VideoChatOptions& o) {
  return " --llm " + o.llm() + " --clip " + o.clip() + " --adapter " + o.adapter() + " --projector " + o.projector() +
         " --tokenizer " + o.tokenizer() + " --frames " + std::to_string(o.num_frames());
}

// stdout of `command` (stderr to `err`), and its exit code.
btadapter::testing::CommandResult run_tool(const std::string& command, const std::string& err) {
  return run_command("(" + command + " 2>" + err + ")");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(BtChat, OneShotAndInteractiveAnswersEqualTheLibrary) {
  TempDir dir;
  const chat::VideoChatOptions options = btadapter::testing::tiny_video_chat_options(dir);
  const std::string video = btadapter::testing::write_tiny_video(dir, "clip.mp4", 3);
  const chat::VideoChat chat(options);
  const auto greedy = llm::GenerationOptions().max_new_tokens(5).temperature(0);
  const chat::ChatAnswer one = chat.ask(chat::VideoInput::file(video), "What is happening?", greedy);
  const chat::ChatAnswer two = chat.ask(chat::VideoInput::file(video), "What is the dog doing?", greedy);
  const std::string base = tool_path("bt_chat").string() + tiny_model_flags(options) + " --video " + video +
                           " --max-new-tokens 5 --temperature 0";
  const std::string err = (dir / "err.txt").string();

  const auto shot = run_tool(base + " --prompt 'What is happening?'", err);
  ASSERT_EQ(shot.exit_code, 0) << shot.output << read_text(err);
  EXPECT_EQ(shot.output, chat.tokenizer().decode(one.generation.ids) + "\n");
  EXPECT_NE(read_text(err).find("time to first token"), std::string::npos) << read_text(err);

  // Interactive: a second question with history differs from asking it alone; after /reset it does not.
  const auto session = run_tool("printf 'What is happening?\\nWhat is the dog doing?\\n/reset\\nWhat is the dog doing?\\n/quit\\n' | " + base, err);
  ASSERT_EQ(session.exit_code, 0) << session.output << read_text(err);
  std::vector<std::string> lines;
  std::istringstream stream(session.output);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << session.output;
  EXPECT_EQ(lines[0], chat.tokenizer().decode(one.generation.ids));
  EXPECT_EQ(lines[2], chat.tokenizer().decode(two.generation.ids));
  EXPECT_NE(read_text(err).find("(history cleared)"), std::string::npos);

  const auto missing = run_tool(tool_path("bt_chat").string() + tiny_model_flags(options) + " --video " +
                                    (dir / "none.mp4").string() + " --prompt hi",
                                err);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(read_text(err).find("bt_chat: "), std::string::npos);
}

TEST(BtEvalQa, WritesResumesAndCountsABadVideo) {
  TempDir dir;
  const chat::VideoChatOptions options = btadapter::testing::tiny_video_chat_options(dir);
  std::filesystem::create_directories(dir / "videos");
  btadapter::testing::write_tiny_video(dir, "videos/a.mp4", 1);
  btadapter::testing::write_tiny_video(dir, "videos/b.mp4", 2);
  std::ofstream(dir / "videos" / "c.mp4") << "not a video";
  const std::string questions = (dir / "qa.json").string();
  std::ofstream(questions) << R"([
    {"video": "a.mp4", "question": "What is happening?", "answer": "dog", "id": 0},
    {"video": "c.mp4", "question": "Who is there?", "answer": "man", "id": 1},
    {"video": "b.mp4", "question": "What is the dog doing?", "answer": "runs", "id": 2}])";
  const std::string output = (dir / "out" / "msrvtt.json").string();
  const std::string command = tool_path("bt_eval_qa").string() + tiny_model_flags(options) +
                              " --format msrvtt-qa --questions " + questions + " --video-dir " +
                              (dir / "videos").string() + " -o " + output + " --max-new-tokens 4 -q";
  const std::string err = (dir / "err.txt").string();

  const auto first = run_tool(command, err);
  ASSERT_EQ(first.exit_code, 0) << first.output << read_text(err);
  const nlohmann::json summary = nlohmann::json::parse(first.output);
  EXPECT_EQ(summary["answered"], 2);
  EXPECT_EQ(summary["skipped"], 1);
  EXPECT_EQ(summary["offline_score"]["label"], "offline answer-in-prediction accuracy (not the paper's GPT-scored metric)");
  EXPECT_NE(read_text(err).find("skipped c.mp4: "), std::string::npos) << read_text(err);

  std::ifstream in(output);
  const nlohmann::json records = nlohmann::json::parse(in);
  ASSERT_EQ(records.size(), 2u);
  const chat::VideoChat chat(options);
  const auto greedy = llm::GenerationOptions().max_new_tokens(4).temperature(0);
  EXPECT_EQ(records[0]["id"], 0);
  EXPECT_EQ(records[0]["question"], "What is happening?");
  EXPECT_EQ(records[0]["answer"], "dog");
  EXPECT_EQ(records[0]["pred"], chat.ask(chat::VideoInput::file((dir / "videos" / "a.mp4").string()), "What is happening?", greedy).text);
  EXPECT_EQ(records[1]["id"], 2);

  const auto again = run_tool(command, err);
  ASSERT_EQ(again.exit_code, 0) << again.output << read_text(err);
  const nlohmann::json resumed = nlohmann::json::parse(again.output);
  EXPECT_EQ(resumed["already_answered"], 2);
  EXPECT_EQ(resumed["answered"], 0);
  EXPECT_EQ(resumed["skipped"], 1);
  EXPECT_EQ(resumed["records"], 2);
}
