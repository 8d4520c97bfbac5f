#include "btadapter/text/conversation_template.h"

#include <c10/util/Exception.h>

namespace btadapter::text {

const ConversationTemplate& ConversationTemplate::video_chatgpt_v1() {
  // The missing space in "language.Follow" is the official string (two literals joined without one).
  static const ConversationTemplate kTemplate{
      "video-chatgpt_v1",
      "You are Video-ChatGPT, a large vision-language assistant. "
      "You are able to understand the video content that the user provides, and assist the user with a "
      "variety of tasks using natural language."
      "Follow the instructions carefully and explain your answers in detail based on the provided video.",
      {"USER", "ASSISTANT"},
      " ",
      "</s>"};
  return kTemplate;
}

const ConversationTemplate& ConversationTemplate::vicuna_v1_1() {
  static const ConversationTemplate kTemplate{
      "vicuna_v1_1",
      "A chat between a curious user and an artificial intelligence assistant. "
      "The assistant gives helpful, detailed, and polite answers to the user's questions.",
      {"USER", "ASSISTANT"},
      " ",
      "</s>"};
  return kTemplate;
}

const ConversationTemplate& ConversationTemplate::by_name(const std::string& name) {
  if (name == video_chatgpt_v1().name) return video_chatgpt_v1();
  if (name == vicuna_v1_1().name) return vicuna_v1_1();
  TORCH_CHECK(false, "conversation template: expected \"video-chatgpt_v1\" or \"vicuna_v1_1\", got \"", name, "\"");
}

std::string video_placeholder(int64_t video_tokens) {
  TORCH_CHECK(video_tokens >= 1, "video placeholder: expected at least 1 video token, got ", video_tokens);
  std::string text = kVideoStartToken;
  for (int64_t i = 0; i < video_tokens; ++i) text += kVideoPatchToken;
  return text + kVideoEndToken;
}

std::string question_with_video(const std::string& question, int64_t video_tokens) {
  return question + "\n" + video_placeholder(video_tokens);
}

Conversation::Conversation(ConversationTemplate conversation_template) : template_(std::move(conversation_template)) {}

void Conversation::append_message(const std::string& role, std::string message) {
  messages_.emplace_back(role, std::move(message));
}

void Conversation::set_last_message(std::string message) {
  TORCH_CHECK(!messages_.empty(), "conversation: expected a message to replace, got none");
  messages_.back().second = std::move(message);
}

std::string Conversation::prompt() const {
  std::string text = template_.system + template_.sep;
  for (size_t i = 0; i < messages_.size(); ++i) {
    const auto& [role, message] = messages_[i];
    if (message.empty()) {
      text += role + ":";
    } else {
      text += role + ": " + message + (i % 2 == 0 ? template_.sep : template_.sep2);
    }
  }
  return text;
}

std::string video_question_prompt(const ConversationTemplate& conversation_template, const std::string& question,
                                  int64_t video_tokens) {
  Conversation conversation(conversation_template);
  conversation.append_message(conversation.user_role(), question_with_video(question, video_tokens));
  conversation.append_message(conversation.assistant_role(), "");
  return conversation.prompt();
}

}  // namespace btadapter::text
