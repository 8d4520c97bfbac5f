// bt_chat: ask the BT-Adapter video LLM about a video.
//
//   bt_chat --llm vicuna-7b/ --clip clip-vit-large-patch14/ --adapter sft_btadapter_weight.bin
//       --projector sft_mm_projector.bin --video cooking.mp4 [--prompt "What is the man doing?"]
//
// With --prompt: one answer on stdout (streamed as generated). Without: an interactive session on stdin,
// one question per line, history kept; "/reset" forgets the history, "/video PATH" switches video,
// "/quit" (or end of input) ends. Timing (time to first token, tokens/s) goes to stderr.
#include "chat_tool_support.h"

#include <iostream>

namespace {

void print_stats(const btadapter::chat::ChatAnswer& answer) {
  const auto& g = answer.generation;
  std::fprintf(stderr, "[%lld prompt tokens, video %.2f s, time to first token %.2f s, %lld tokens, %.1f tokens/s]\n",
               static_cast<long long>(g.prompt_tokens), answer.video_seconds, g.time_to_first_token_s,
               static_cast<long long>(g.ids.size()), g.decode_tokens_per_s);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace btadapter;
  tools::ChatModelCli cli;
  std::string video, prompt;
  CLI::App app{"Chat about a video with the BT-Adapter video LLM."};
  cli.add_to(app);
  app.add_option("--video", video, "video file or frame folder")->required();
  app.add_option("--prompt", prompt, "one question (default: interactive session on stdin)");
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_chat", [&] {
    cli.configure_runtime();
    const chat::VideoChat model(cli.chat_options());
    const llm::GenerationOptions generation = cli.generation();
    auto stream = [](const std::string& piece) {
      std::cout << piece << std::flush;
      return true;
    };
    chat::Conversation conversation = model.conversation(chat::VideoInput::file(video));
    if (!prompt.empty()) {
      const chat::ChatAnswer answer = conversation.ask(prompt, generation, stream);
      std::cout << std::endl;
      print_stats(answer);
      return 0;
    }
    std::cerr << "Video: " << video << ". Ask a question; /reset, /video PATH, /quit." << std::endl;
    std::string line;
    while (std::cerr << "> " << std::flush, std::getline(std::cin, line)) {
      if (line.empty()) continue;
      if (line == "/quit") break;
      if (line == "/reset") {
        conversation.reset();
        std::cerr << "(history cleared)" << std::endl;
        continue;
      }
      if (line.rfind("/video ", 0) == 0) {
        try {
          conversation.set_video(chat::VideoInput::file(line.substr(7)));
          std::cerr << "(video: " << line.substr(7) << ", history cleared)" << std::endl;
        } catch (const std::exception& e) {
          std::cerr << "bt_chat: " << tools::error_message(e) << std::endl;  // keep the session
        }
        continue;
      }
      try {
        const chat::ChatAnswer answer = conversation.ask(line, generation, stream);
        std::cout << std::endl;
        print_stats(answer);
      } catch (const std::exception& e) {  // e.g. the history outgrew the context: the session goes on
        std::cout << std::endl;
        std::cerr << "bt_chat: " << tools::error_message(e) << std::endl;
      }
    }
    return 0;
  });
}
