// Conversation templates against the conversation fixture's texts (config.json), and multi-turn prompts
// written out by hand from the official Conversation.get_prompt (SeparatorStyle.TWO).
#include <gtest/gtest.h>

#include "btadapter/text/conversation_template.h"
#include "support/test_support.h"

#include <nlohmann/json.hpp>

#include <fstream>

using btadapter::testing::expect_error;
using btadapter::testing::fixture_path;
using namespace btadapter::text;

namespace {

nlohmann::json conversation_config() {
  std::ifstream in(fixture_path("conversation/tiny_conv_a/config.json"));
  return nlohmann::json::parse(in);
}

// "<vid_patch>" occurrences in `text`.
int64_t count_patches(const std::string& text) {
  int64_t count = 0;
  for (size_t pos = text.find(kVideoPatchToken); pos != std::string::npos; pos = text.find(kVideoPatchToken, pos + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

TEST(ConversationTemplate, InferencePromptEqualsTheFixtureText) {
  const nlohmann::json config = conversation_config();
  const int64_t video_tokens = config.at("symbols").at("P").get<int64_t>() + 1;
  const std::string prompt = video_question_prompt(ConversationTemplate::by_name(config["inference"]["conv_mode"]),
                                                   config["inference"]["question"], video_tokens);
  EXPECT_EQ(prompt, config["inference"]["prompt"].get<std::string>());
  EXPECT_NE(prompt.find("natural language.Follow the instructions"), std::string::npos);
  EXPECT_EQ(prompt.substr(prompt.size() - 11), " ASSISTANT:");  // open turn: no trailing space
  EXPECT_EQ(count_patches(prompt), video_tokens);
}

TEST(ConversationTemplate, TrainingTextEqualsTheFixtureText) {
  const nlohmann::json config = conversation_config();
  const nlohmann::json& training = config.at("training");
  const nlohmann::json& turns = training.at("sample").at("conversations");
  // preprocess_multimodal: "<video>" -> the placeholder, then preprocess_v1 with vicuna_v1_1.
  std::string question = turns[0]["value"];
  question.replace(question.find(kVideoToken), std::string(kVideoToken).size(),
                   video_placeholder(training["cur_token_len"].get<int64_t>()));
  Conversation conversation(ConversationTemplate::vicuna_v1_1());
  conversation.append_message(conversation.user_role(), question);
  conversation.append_message(conversation.assistant_role(), turns[1]["value"]);
  EXPECT_EQ(conversation.prompt(), training["conversation_text"].get<std::string>());
}

TEST(ConversationTemplate, MultiTurnPromptFollowsGetPrompt) {
  // get_prompt, TWO: system + " ", then "ROLE: msg" + (" " after user, "</s>" after assistant), "ROLE:" when empty.
  Conversation conversation(ConversationTemplate::video_chatgpt_v1());
  conversation.append_message("USER", question_with_video("Q1?", 2));
  conversation.append_message("ASSISTANT", "");
  const std::string system = ConversationTemplate::video_chatgpt_v1().system;
  EXPECT_EQ(conversation.prompt(),
            system + " USER: Q1?\n<vid_start><vid_patch><vid_patch><vid_end> ASSISTANT:");
  conversation.set_last_message("A1.");
  conversation.append_message("USER", "Q2?");
  conversation.append_message("ASSISTANT", "");
  EXPECT_EQ(conversation.prompt(),
            system + " USER: Q1?\n<vid_start><vid_patch><vid_patch><vid_end> ASSISTANT: A1.</s>USER: Q2? ASSISTANT:");
  conversation.set_last_message("A2.");
  EXPECT_EQ(conversation.prompt(),
            system + " USER: Q1?\n<vid_start><vid_patch><vid_patch><vid_end> ASSISTANT: A1.</s>USER: Q2? ASSISTANT: A2.</s>");
  conversation.clear();
  EXPECT_EQ(conversation.prompt(), system + " ");
}

TEST(ConversationTemplate, VicunaSystemTextAndErrors) {
  EXPECT_EQ(ConversationTemplate::vicuna_v1_1().system,
            "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
            "detailed, and polite answers to the user's questions.");
  EXPECT_EQ(ConversationTemplate::by_name("vicuna_v1_1").sep2, "</s>");
  expect_error([] { ConversationTemplate::by_name("llava_v1"); }, "expected \"video-chatgpt_v1\" or \"vicuna_v1_1\", got \"llava_v1\"");
  expect_error([] { video_placeholder(0); }, "expected at least 1 video token, got 0");
  Conversation empty(ConversationTemplate::vicuna_v1_1());
  expect_error([&] { empty.set_last_message("x"); }, "expected a message to replace");
  EXPECT_EQ(video_placeholder(1), "<vid_start><vid_patch><vid_end>");
}
