// Ask the BT-Adapter video LLM about a video, with an installed libbtadapter:
//   video_chat <llm folder> <clip> <adapter> <projector> <video> "What is happening in this video?"
// The answer is streamed to stdout as it is generated.
#include <btadapter/chat/video_chat.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: video_chat LLM_DIR CLIP ADAPTER PROJECTOR VIDEO QUESTION" << std::endl;
    return 2;
  }
  try {
    const btadapter::chat::VideoChat chat(btadapter::chat::VideoChatOptions(argv[1], argv[2], argv[3], argv[4]));
    auto options = chat.generation_defaults();  // official: sampling at temperature 0.2, stop at </s>
    options.max_new_tokens(256);
    const auto answer = chat.ask(btadapter::chat::VideoInput::file(argv[5]), argv[6], options,
                                 [](const std::string& piece) {
                                   std::cout << piece << std::flush;
                                   return true;
                                 });
    std::cout << "\n";
    std::cerr << answer.generation.ids.size() << " tokens, " << answer.generation.decode_tokens_per_s << " tokens/s\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "video_chat: " << e.what() << std::endl;
    return 1;
  }
}
