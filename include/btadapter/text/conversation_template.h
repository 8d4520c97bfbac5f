#pragma once
/// Conversation templates of the BT-Adapter / Video-ChatGPT video LLM (official
/// `llava_base/bt_adapter/video_conversation.py`), and the video placeholder the prompt carries.
///
///   Conversation conv(ConversationTemplate::video_chatgpt_v1());
///   conv.append_message(conv.user_role(), question_with_video("What is he doing?", 257));
///   conv.append_message(conv.assistant_role(), "");       // open turn -> "... ASSISTANT:"
///   std::string prompt = conv.prompt();                   // tokenise with LlamaTokenizer::encode_prompt
///
/// prompt() is `Conversation.get_prompt` for SeparatorStyle.TWO (the only style the two templates use):
///   system + sep, then per message i: role + ": " + message + (i even ? sep : sep2), or role + ":"
///   (no trailing space) when the message is empty.
/// Quirks kept verbatim (conversation README, quirk 7): the video-chatgpt_v1 system text has no space
/// in "language.Follow"; training (vicuna_v1_1) differs from inference (video-chatgpt_v1).
///
/// Thread safety: templates are immutable; a Conversation is a plain value (one thread at a time).

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace btadapter::text {

inline constexpr const char* kVideoToken = "<video>";          ///< placeholder in training samples
inline constexpr const char* kVideoPatchToken = "<vid_patch>";  ///< one per video token
inline constexpr const char* kVideoStartToken = "<vid_start>";
inline constexpr const char* kVideoEndToken = "<vid_end>";

/// One official template (SeparatorStyle.TWO).
struct ConversationTemplate {
  std::string name;                ///< key in the official `conv_templates`
  std::string system;              ///< system text, verbatim
  std::array<std::string, 2> roles;  ///< {user, assistant}
  std::string sep;                 ///< after the system text and after user messages
  std::string sep2;                ///< after assistant messages (also the official stop string)

  /// `conv_video_chatgpt_v1`: the evaluation default (`--conv-mode video-chatgpt_v1`).
  static const ConversationTemplate& video_chatgpt_v1();
  /// `conv_vicuna_v1_1`: instruction tuning (`train.py` sets it as default_conversation).
  static const ConversationTemplate& vicuna_v1_1();
  /// The template named `name` ("video-chatgpt_v1" or "vicuna_v1_1"); throws c10::Error listing both.
  static const ConversationTemplate& by_name(const std::string& name);
};

/// `<vid_start>` + video_tokens x `<vid_patch>` + `<vid_end>` (official `use_vid_start_end`; BT-Adapter
/// has video_tokens = P+1, 257 for ViT-L/14 at 224 px). Throws c10::Error unless video_tokens >= 1.
std::string video_placeholder(int64_t video_tokens);

/// `question + "\n" + video_placeholder(video_tokens)`: the first user message of inference
/// (`video_conversation_infer`).
std::string question_with_video(const std::string& question, int64_t video_tokens);

/// A conversation: a template plus its message history, rendered as the official code does.
class Conversation {
 public:
  explicit Conversation(ConversationTemplate conversation_template);

  const ConversationTemplate& conversation_template() const { return template_; }
  const std::string& user_role() const { return template_.roles[0]; }
  const std::string& assistant_role() const { return template_.roles[1]; }

  /// Appends (role, message); an empty message is an open turn for the model to complete.
  void append_message(const std::string& role, std::string message);
  /// Replaces the text of the last message (e.g. the open assistant turn once it is answered).
  /// Throws c10::Error when there is no message.
  void set_last_message(std::string message);
  const std::vector<std::pair<std::string, std::string>>& messages() const { return messages_; }
  void clear() { messages_.clear(); }

  /// The official `get_prompt()` text.
  std::string prompt() const;

 private:
  ConversationTemplate template_;
  std::vector<std::pair<std::string, std::string>> messages_;
};

/// The single-turn inference prompt of `video_conversation_infer`: the template with
/// (user, question_with_video(question, video_tokens)) and an open assistant turn.
std::string video_question_prompt(const ConversationTemplate& conversation_template, const std::string& question,
                                  int64_t video_tokens);

}  // namespace btadapter::text
