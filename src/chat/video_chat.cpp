#include "btadapter/chat/video_chat.h"

#include "btadapter/chat/video_tower_weights.h"
#include "btadapter/data/conversation_frames.h"
#include "btadapter/llm/hf_checkpoint.h"
#include "btadapter/llm/video_splice.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace btadapter::chat {
namespace {

namespace fs = std::filesystem;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string default_tokenizer_path(const std::string& llm_path) {
  const fs::path folder = fs::is_directory(llm_path) ? fs::path(llm_path) : fs::path(llm_path).parent_path();
  return (folder / "tokenizer.model").string();
}

// Decoded text without a trailing U+FFFD: a multi-byte character whose byte pieces have not all been
// generated yet decodes as a replacement character that the next byte piece replaces.
std::string settled_text(std::string text) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  while (text.size() >= kReplacement.size() && text.compare(text.size() - 3, 3, kReplacement) == 0) text.resize(text.size() - 3);
  return text;
}

}  // namespace

// The modules' forward calls do not mutate them (their headers' contract), so one loaded model
// serves every thread; `mutable` because LibTorch's module holders have no const forward.
struct VideoChat::Model {
  explicit Model(const VideoChatOptions& o) : options(o), conversation_template(text::ConversationTemplate::by_name(o.conv_mode())) {}

  VideoChatOptions options;
  text::ConversationTemplate conversation_template;
  std::unique_ptr<text::LlamaTokenizer> tokenizer;
  mutable VideoTower tower{nullptr};
  mutable torch::nn::Linear projector{nullptr};
  mutable llm::LlamaForCausalLM llm{nullptr};
};

VideoChat::VideoChat(const VideoChatOptions& options) {
  auto model = std::make_shared<Model>(options);
  const std::string tokenizer_path = options.tokenizer().empty() ? default_tokenizer_path(options.llm()) : options.tokenizer();
  model->tokenizer = std::make_unique<text::LlamaTokenizer>(tokenizer_path);
  model->llm = llm::load_llama(options.llm(), llm::LlamaLoadOptions().dtype(options.dtype()).device(options.device()));
  const int64_t vocab = model->llm->config().vocab_size;
  TORCH_CHECK(vocab == model->tokenizer->vocab_size(), "VideoChat: expected the LLM's vocab_size (", vocab, ", ",
              options.llm(), ") to equal the tokenizer's pieces + 3 video tokens (",
              model->tokenizer->base_vocab_size(), " + 3, ", tokenizer_path, ")");
  model->tower = load_video_tower(options.clip(), options.adapter(),
                                  VideoTowerLoadOptions().heads(options.vision_heads()).frame_rule(options.frame_rule()));
  model->tower->to(options.device(), options.dtype());
  Projector projector = load_projector(options.projector());
  TORCH_CHECK(projector.mm_projector->weight.size(1) == model->tower->options().width() &&
                  projector.mm_projector->weight.size(0) == model->llm->config().hidden_size,
              "VideoChat: expected the projector ", options.projector(), " to map the tower width ",
              model->tower->options().width(), " to the LLM width ", model->llm->config().hidden_size, ", got [",
              projector.mm_projector->weight.size(0), ", ", projector.mm_projector->weight.size(1), "]");
  model->projector = projector.mm_projector;
  model->projector->to(options.device(), options.dtype());
  if (projector.embed_tokens.defined()) {
    torch::Tensor& table = model->llm->model->embed_tokens->weight;
    TORCH_CHECK(projector.embed_tokens.sizes() == table.sizes(), "VideoChat: the projector file ", options.projector(),
                " carries model.embed_tokens.weight ", projector.embed_tokens.sizes(), ", expected the LLM's ",
                table.sizes());
    torch::NoGradGuard no_grad;
    table.copy_(projector.embed_tokens);
  }
  model->tower->eval();
  model->projector->eval();
  model->llm->eval();
  model_ = std::move(model);
}

const text::LlamaTokenizer& VideoChat::tokenizer() const { return *model_->tokenizer; }
const VideoChatOptions& VideoChat::options() const { return model_->options; }
const text::ConversationTemplate& VideoChat::conversation_template() const { return model_->conversation_template; }
int64_t VideoChat::video_token_count() const { return model_->tower->options().num_patches() + 1; }

llm::GenerationOptions VideoChat::generation_defaults() const {
  return llm::GenerationOptions().max_new_tokens(1024).temperature(0.2).top_k(50).stop_token_ids(
      {model_->tokenizer->eos_id()});
}

torch::Tensor VideoChat::video_features(const VideoInput& video) const {
  torch::NoGradGuard no_grad;
  const Model& m = *model_;
  torch::Tensor tokens;
  if (video.kind == VideoInput::Kind::kTokens) {
    tokens = video.tensor;
  } else {
    torch::Tensor frames = video.tensor;
    if (video.kind == VideoInput::Kind::kFile) {
      const auto frame_options = data::ConversationFrameOptions()
                                     .num_frames(m.options.num_frames())
                                     .image_size(m.tower->options().image_size());
      frames = data::read_conversation_video(video.path, frame_options).frames;
    }
    const int64_t size = m.tower->options().image_size();
    TORCH_CHECK(frames.defined() && frames.dim() == 4 && frames.size(1) == 3 && frames.size(2) == size &&
                    frames.size(3) == size,
                "VideoChat: expected frames [T, 3, ", size, ", ", size, "], got ",
                frames.defined() ? frames.sizes() : c10::IntArrayRef{});
    tokens = m.tower->video_tokens(frames.to(m.options.device(), m.options.dtype()));
  }
  TORCH_CHECK(tokens.defined() && tokens.dim() == 2 && tokens.size(0) == video_token_count() &&
                  tokens.size(1) == m.tower->options().width(),
              "VideoChat: expected video tokens [", video_token_count(), ", ", m.tower->options().width(), "], got ",
              tokens.defined() ? tokens.sizes() : c10::IntArrayRef{});
  return m.projector->forward(tokens.to(m.options.device(), m.options.dtype()));
}

ChatAnswer VideoChat::answer_prompt(const std::string& prompt, const torch::Tensor& features,
                                    const llm::GenerationOptions& options, const TextCallback& on_text) const {
  torch::NoGradGuard no_grad;
  const Model& m = *model_;
  const text::LlamaTokenizer& tokenizer = *m.tokenizer;
  const std::vector<int64_t> ids = tokenizer.encode_prompt(prompt);
  const int64_t context = m.llm->config().max_position_embeddings;
  const int64_t prompt_tokens = static_cast<int64_t>(ids.size());
  TORCH_CHECK(prompt_tokens < context, "VideoChat: the prompt has ", prompt_tokens,
              " tokens, expected fewer than the LLM's context of ", context, " (reset the conversation)");

  const torch::Tensor input_ids = torch::tensor(ids, torch::kLong).unsqueeze(0).to(m.options.device());
  const torch::Tensor spliced = llm::splice_video_features(
      input_ids, m.llm->embed(input_ids), features.unsqueeze(0),
      llm::VideoSpliceOptions(tokenizer.video_patch_id(), tokenizer.video_start_id(), tokenizer.video_end_id()));

  llm::GenerationOptions run = options;
  run.max_new_tokens(std::min(run.max_new_tokens(), context - prompt_tokens));
  std::vector<int64_t> stops = run.stop_token_ids();
  if (std::find(stops.begin(), stops.end(), tokenizer.eos_id()) == stops.end()) stops.push_back(tokenizer.eos_id());
  run.stop_token_ids(stops);

  std::vector<int64_t> generated;
  std::string emitted;
  llm::TokenCallback on_token;
  if (on_text) {
    on_token = [&](int64_t id) {
      generated.push_back(id);
      const std::string text = settled_text(tokenizer.decode(generated));
      if (text.size() <= emitted.size() || text.compare(0, emitted.size(), emitted) != 0) return true;
      const std::string piece = text.substr(emitted.size());
      emitted = text;
      return on_text(piece);
    };
  }
  ChatAnswer answer;
  answer.generation = llm::generate(m.llm, spliced, run, on_token);
  std::vector<int64_t> answer_ids = answer.generation.ids;
  if (answer.generation.stop_reason == llm::StopReason::kStopToken && !answer_ids.empty()) answer_ids.pop_back();
  const std::string decoded = tokenizer.decode(answer_ids);
  // Whatever the settled-text rule held back (a trailing replacement character) is sent at the end.
  const bool stopped_by_callback = answer.generation.stop_reason == llm::StopReason::kCallback;
  if (on_text && !stopped_by_callback && decoded.size() > emitted.size() && decoded.compare(0, emitted.size(), emitted) == 0) {
    on_text(decoded.substr(emitted.size()));
  }
  answer.text = text::clean_answer(decoded, m.options.answer_cleanup());
  return answer;
}

ChatAnswer VideoChat::ask(const VideoInput& video, const std::string& question, const llm::GenerationOptions& options,
                          const TextCallback& on_text) const {
  const auto start = std::chrono::steady_clock::now();
  const torch::Tensor features = video_features(video);
  const double video_seconds = seconds_since(start);
  ChatAnswer answer = answer_prompt(text::video_question_prompt(conversation_template(), question, video_token_count()),
                                    features, options, on_text);
  answer.video_seconds = video_seconds;
  return answer;
}

Conversation VideoChat::conversation(const VideoInput& video) const {
  const auto start = std::chrono::steady_clock::now();
  torch::Tensor features = video_features(video);
  return Conversation(*this, std::move(features), seconds_since(start));
}

Conversation::Conversation(VideoChat chat, torch::Tensor features, double video_seconds)
    : chat_(std::move(chat)),
      features_(std::move(features)),
      history_(chat_.conversation_template()),
      pending_video_seconds_(video_seconds) {}

ChatAnswer Conversation::ask(const std::string& question, const llm::GenerationOptions& options,
                             const TextCallback& on_text) {
  // The video goes into the first user message only, as the official demo builds its prompt.
  const bool first = history_.messages().empty();
  text::Conversation before = history_;  // a failed turn leaves the history as it was
  history_.append_message(history_.user_role(),
                          first ? text::question_with_video(question, chat_.video_token_count()) : question);
  history_.append_message(history_.assistant_role(), "");
  ChatAnswer answer;
  try {
    answer = chat_.answer_prompt(history_.prompt(), features_, options, on_text);
  } catch (...) {
    history_ = std::move(before);
    throw;
  }
  history_.set_last_message(answer.text);
  answer.video_seconds = pending_video_seconds_;
  pending_video_seconds_ = 0;
  return answer;
}

void Conversation::reset() { history_.clear(); }

void Conversation::set_video(const VideoInput& video) {
  const auto start = std::chrono::steady_clock::now();
  features_ = chat_.video_features(video);
  pending_video_seconds_ = seconds_since(start);
  history_.clear();
}

}  // namespace btadapter::chat
