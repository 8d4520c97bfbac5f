#pragma once
/// Instruction-tuning samples of the BT-Adapter video LLM: the official `train.py`
/// `preprocess_multimodal` + `preprocess_v1` (conversation README section 7, data path), turning a
/// VideoChatGPT-format conversation into input ids and labels.
///
///   std::vector<ConversationTurn> turns = {{"human", "What is he doing?\n<video>"}, {"gpt", "Cooking."}};
///   InstructionSample s = preprocess_v1(expand_video_token(turns, 257), tokenizer);
///
/// preprocess_v1, as the official code computes it:
///  - a first turn not from "human" is dropped; roles must then alternate human, gpt, ...;
///  - text = the template's (default vicuna_v1_1) get_prompt of all turns: system + " USER: " + q +
///    " ASSISTANT: " + a + "</s>" ...; ids = LlamaTokenizer::encode_prompt(text) cut to max_length;
///  - labels = ids with kIgnoreIndex on BOS; then per round (text split at "</s>", an empty piece
///    ends the loop) with parts = round split at " ASSISTANT: " (not exactly 2 parts ends the loop):
///    kIgnoreIndex on the first len(tok(parts[0] + " ASSISTANT: ")) - 2 positions, and the position
///    advances by len(tok(round)) (its BOS stands for the "</s>" the split removed); every position
///    after the last round is kIgnoreIndex;
///  - when that position count is below max_length and differs from the count of ids that are not the
///    pad id (`<unk>`, as the official tokenizer pads with unk), every label is kIgnoreIndex
///    (official "tokenization mismatch", reported here as `mismatch`).
///
/// Thread safety: pure functions.

#include "btadapter/text/conversation_template.h"
#include "btadapter/text/llama_tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace btadapter::text {

/// Label of positions the loss ignores (official IGNORE_INDEX).
inline constexpr int64_t kIgnoreIndex = -100;

/// One VideoChatGPT-format turn: `from` is "human" or "gpt".
struct ConversationTurn {
  std::string from;
  std::string value;
};

/// preprocess_multimodal with use_vid_start_end (and sep_video_conv_front false): every "<video>" in
/// every turn becomes video_placeholder(video_tokens).
std::vector<ConversationTurn> expand_video_token(std::vector<ConversationTurn> turns, int64_t video_tokens);

struct InstructionSample {
  std::string text;                ///< the rendered conversation
  std::vector<int64_t> input_ids;  ///< BOS first
  std::vector<int64_t> labels;     ///< same length; kIgnoreIndex where no loss
  bool mismatch = false;           ///< the official count check failed: every label is kIgnoreIndex
};

/// preprocess_v1 of one sample. Throws c10::Error naming the turn for an unknown `from`, roles that
/// do not alternate, or an empty conversation.
InstructionSample preprocess_v1(const std::vector<ConversationTurn>& turns, const LlamaTokenizer& tokenizer,
                                const ConversationTemplate& conversation_template = ConversationTemplate::vicuna_v1_1(),
                                int64_t max_length = 2048);

}  // namespace btadapter::text
