// VideoChat end to end on the conversation fixture: the official prompt, the splice and greedy decoding
// reproduce llm.gen.ids exactly; projected features within the README rule; multi-turn history as the
// official template renders it; streaming; several threads asking at once give the serial answers.
#include <gtest/gtest.h>

#include "chat/tiny_video_chat.h"

#include <thread>

using namespace btadapter;
using btadapter::testing::conversation_fixture;
using btadapter::testing::expect_error;
using btadapter::testing::TempDir;

namespace {

std::vector<int64_t> fixture_generated_ids() {
  const torch::Tensor ids = conversation_fixture().exp("llm.gen.ids");
  return std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
}

llm::GenerationOptions greedy(int64_t tokens) { return llm::GenerationOptions().max_new_tokens(tokens).temperature(0); }

}  // namespace

TEST(VideoChat, GreedyAnswerReproducesTheFixtureGeneration) {
  TempDir dir;
  const chat::VideoChat chat(btadapter::testing::tiny_video_chat_options(dir));
  const auto& f = conversation_fixture();
  EXPECT_EQ(chat.video_token_count(), f.symbol("P") + 1);
  btadapter::testing::expect_fixture_match("inf.mm_projector_out", chat.video_features(chat::VideoInput::frames(f.in("inf.frames"))));

  const std::string question = f.config["inference"]["question"];
  const int64_t G = f.symbol("G (generated)");
  const chat::ChatAnswer answer = chat.ask(chat::VideoInput::frames(f.in("inf.frames")), question, greedy(G));
  EXPECT_EQ(answer.generation.prompt_tokens, f.symbol("N (prompt length)"));
  EXPECT_EQ(answer.generation.ids, fixture_generated_ids());
  EXPECT_EQ(answer.generation.stop_reason, llm::StopReason::kMaxNewTokens);
  EXPECT_EQ(answer.text, text::clean_answer(chat.tokenizer().decode(fixture_generated_ids())));
  // Precomputed video tokens take the same path after the tower.
  const chat::ChatAnswer from_tokens = chat.ask(chat::VideoInput::tokens(f.exp("inf.video_tokens")), question, greedy(G));
  EXPECT_EQ(from_tokens.generation.ids, fixture_generated_ids());
}

TEST(VideoChat, ConversationKeepsHistoryAndStreams) {
  TempDir dir;
  const chat::VideoChat chat(btadapter::testing::tiny_video_chat_options(dir));
  const auto& f = conversation_fixture();
  chat::Conversation conversation = chat.conversation(chat::VideoInput::frames(f.in("inf.frames")));
  std::string streamed;
  const chat::ChatAnswer first = conversation.ask(f.config["inference"]["question"], greedy(8), [&](const std::string& piece) {
    streamed += piece;
    return true;
  });
  EXPECT_EQ(first.generation.ids, fixture_generated_ids());  // the first turn is the single-turn prompt
  EXPECT_EQ(streamed, chat.tokenizer().decode(first.generation.ids));
  EXPECT_GT(first.video_seconds, 0);

  const chat::ChatAnswer second = conversation.ask("And then?", greedy(3));
  const std::string expected_prompt = text::video_question_prompt(chat.conversation_template(),
                                                                  f.config["inference"]["question"], chat.video_token_count()) +
                                      " " + first.text + "</s>USER: And then? ASSISTANT: " + second.text + "</s>";
  EXPECT_EQ(conversation.history().prompt(), expected_prompt);
  EXPECT_EQ(second.video_seconds, 0);
  // The second prompt: the whole history, one video placeholder.
  EXPECT_GT(second.generation.prompt_tokens, first.generation.prompt_tokens + 3);

  // A callback returning false stops generation.
  conversation.reset();
  int pieces = 0;
  const chat::ChatAnswer stopped = conversation.ask("What?", greedy(8), [&](const std::string&) { return ++pieces < 2; });
  EXPECT_EQ(stopped.generation.stop_reason, llm::StopReason::kCallback);
  EXPECT_EQ(conversation.history().messages().size(), 2u);
}

TEST(VideoChat, ThreadsAskingAtOnceGetTheSerialAnswers) {
  TempDir dir;
  const chat::VideoChat chat(btadapter::testing::tiny_video_chat_options(dir));
  const auto& f = conversation_fixture();
  const std::vector<chat::VideoInput> videos = {chat::VideoInput::frames(f.in("inf.frames")),
                                                chat::VideoInput::frames(f.in("long.frames")),
                                                chat::VideoInput::tokens(f.exp("inf.video_tokens"))};
  const std::vector<std::string> questions = {"What is the man doing in this video?", "What is happening?",
                                              "What is the woman doing?"};
  const auto sampled = llm::GenerationOptions().max_new_tokens(6).temperature(0.7).seed(11);
  std::vector<std::vector<int64_t>> serial, parallel(videos.size());
  for (size_t i = 0; i < videos.size(); ++i) serial.push_back(chat.ask(videos[i], questions[i], sampled).generation.ids);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < videos.size(); ++i) {
    threads.emplace_back([&, i] { parallel[i] = chat.ask(videos[i], questions[i], sampled).generation.ids; });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(parallel, serial);
  EXPECT_NE(serial[0], serial[1]);
}

TEST(VideoChat, ErrorsNameTheProblem) {
  TempDir dir;
  const chat::VideoChat chat(btadapter::testing::tiny_video_chat_options(dir));
  expect_error([&] { chat.video_features(chat::VideoInput::tokens(torch::zeros({3, 4}))); }, "expected video tokens [17, 64], got [3, 4]");
  expect_error([&] { chat.video_features(chat::VideoInput::frames(torch::zeros({2, 3, 8, 8}))); },
               "expected frames [T, 3, 32, 32], got [2, 3, 8, 8]");
  expect_error([&] { chat.ask(chat::VideoInput::file((dir / "none.mp4").string()), "q", greedy(1)); }, "none.mp4");
  auto options = btadapter::testing::tiny_video_chat_options(dir);
  train_sentencepiece(SentencePieceTrainOptions(btadapter::testing::write_toy_captions(dir), (dir / "other.model").string(), 60));
  expect_error([&] { chat::VideoChat(options.tokenizer((dir / "other.model").string())); }, "to equal the tokenizer's pieces + 3 video tokens");
}
