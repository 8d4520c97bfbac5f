#include "btadapter/text/instruction_sample.h"

#include <c10/util/Exception.h>

#include <algorithm>

namespace btadapter::text {
namespace {

// Python str.split(sep) (sep non-empty).
std::vector<std::string> split_all(const std::string& text, const std::string& sep) {
  std::vector<std::string> parts;
  size_t begin = 0;
  for (size_t pos = text.find(sep); pos != std::string::npos; pos = text.find(sep, begin)) {
    parts.push_back(text.substr(begin, pos - begin));
    begin = pos + sep.size();
  }
  parts.push_back(text.substr(begin));
  return parts;
}

}  // namespace

std::vector<ConversationTurn> expand_video_token(std::vector<ConversationTurn> turns, int64_t video_tokens) {
  const std::string placeholder = video_placeholder(video_tokens);
  const std::string token = kVideoToken;
  for (ConversationTurn& turn : turns) {
    for (size_t pos = turn.value.find(token); pos != std::string::npos; pos = turn.value.find(token, pos + placeholder.size())) {
      turn.value.replace(pos, token.size(), placeholder);
    }
  }
  return turns;
}

InstructionSample preprocess_v1(const std::vector<ConversationTurn>& turns, const LlamaTokenizer& tokenizer,
                                const ConversationTemplate& conversation_template, int64_t max_length) {
  TORCH_CHECK(max_length >= 1, "preprocess_v1: expected max_length >= 1, got ", max_length);
  Conversation conversation(conversation_template);
  const size_t first = !turns.empty() && turns[0].from != "human" ? 1 : 0;  // official: skip a leading gpt turn
  TORCH_CHECK(turns.size() > first, "preprocess_v1: expected at least one turn from \"human\", got ", turns.size(), " turns");
  for (size_t i = first; i < turns.size(); ++i) {
    const std::string& from = turns[i].from;
    TORCH_CHECK(from == "human" || from == "gpt", "preprocess_v1: turn ", i, ": expected from \"human\" or \"gpt\", got \"",
                from, "\"");
    const bool user = (i - first) % 2 == 0;
    TORCH_CHECK((from == "human") == user, "preprocess_v1: turn ", i, ": expected from \"", user ? "human" : "gpt",
                "\" (roles alternate), got \"", from, "\"");
    conversation.append_message(conversation.conversation_template().roles[user ? 0 : 1], turns[i].value);
  }

  InstructionSample sample;
  sample.text = conversation.prompt();
  sample.input_ids = tokenizer.encode_prompt(sample.text);
  if (static_cast<int64_t>(sample.input_ids.size()) > max_length) sample.input_ids.resize(max_length);
  sample.labels = sample.input_ids;
  const int64_t length = static_cast<int64_t>(sample.labels.size());
  const int64_t total = std::count_if(sample.input_ids.begin(), sample.input_ids.end(),
                                      [&](int64_t id) { return id != tokenizer.unk_id(); });
  auto ignore = [&](int64_t from, int64_t to) {
    for (int64_t i = std::max<int64_t>(from, 0); i < std::min(to, length); ++i) sample.labels[i] = kIgnoreIndex;
  };

  const std::string sep = conversation_template.sep + conversation_template.roles[1] + ": ";
  int64_t position = 1;
  ignore(0, position);
  for (const std::string& round : split_all(sample.text, conversation_template.sep2)) {
    if (round.empty()) break;
    const std::vector<std::string> parts = split_all(round, sep);
    if (parts.size() != 2) break;
    const int64_t round_length = static_cast<int64_t>(tokenizer.encode_prompt(round).size());
    const int64_t instruction_length = static_cast<int64_t>(tokenizer.encode_prompt(parts[0] + sep).size()) - 2;
    ignore(position, position + instruction_length);
    position += round_length;
  }
  ignore(position, length);
  if (position < max_length && position != total) {
    sample.mismatch = true;
    ignore(0, length);
  }
  return sample;
}

}  // namespace btadapter::text
