// bt_tokenize: texts in, token ids out, one JSON array per line, to diff against any other
// implementation (e.g. bench/tokenizer_reference.py, OpenAI's SimpleTokenizer).
//
//   bt_tokenize --vocab bpe_simple_vocab_16e6.txt.gz < captions.txt
//   bt_tokenize --vocab m.model --context 32 --truncate official:32 < captions.txt
//   bt_tokenize --vocab vocab.json --ids-only --jsonl < cases.jsonl
//   bt_tokenize --vocab vocab.json --decode < ids.jsonl
#include "btadapter/config/model_config.h"
#include "btadapter/text/tokenizer.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace {

using nlohmann::json;

// The text of one input line: the line itself, or with --jsonl a JSON string or {"text": ...}.
std::string read_text(const std::string& line, bool jsonl, int64_t line_number) {
  if (!jsonl) return line;
  json j;
  try {
    j = json::parse(line);
  } catch (const json::parse_error& e) {
    throw std::runtime_error("stdin line " + std::to_string(line_number) + ": expected JSON (" + e.what() + ")");
  }
  if (j.is_object() && j.contains("text") && j["text"].is_string()) return j["text"].get<std::string>();
  if (j.is_string()) return j.get<std::string>();
  throw std::runtime_error("stdin line " + std::to_string(line_number) +
                           ": expected a JSON string or an object with a string \"text\"");
}

std::vector<int64_t> read_ids(const std::string& line, int64_t line_number) {
  try {
    return json::parse(line).get<std::vector<int64_t>>();
  } catch (const json::exception&) {
    throw std::runtime_error("stdin line " + std::to_string(line_number) + ": expected a JSON array of integer ids");
  }
}

}  // namespace

int main(int argc, char** argv) {
  btadapter::TokenizerConfig config;
  bool ids_only = false, jsonl = false, decode = false;
  CLI::App app{"Tokenize one text per stdin line; print one JSON array of ids per line (no padding)."};
  app.add_option("--vocab", config.vocab, "CLIP bpe_simple_vocab_16e6.txt.gz, HF vocab.json (merges.txt beside) "
                                          "or a folder of either; or a SentencePiece .model")
      ->required();
  app.add_option("--kind", config.kind, "clip_bpe or sentencepiece (default: sentencepiece for *.model)");
  app.add_option("--context", config.context_length, "positions before truncation")->capture_default_str();
  app.add_option("--truncate", config.truncate, "openai (cut, EOT forced last) or official:N (then keep N)")
      ->capture_default_str();
  app.add_option("--bos-id", config.bos_id, "id before each text: -1 the vocabulary's own, -2 none")->capture_default_str();
  app.add_option("--eos-id", config.eos_id, "id after each text: -1 the vocabulary's own, -2 none")->capture_default_str();
  app.add_flag("--ids-only", ids_only, "print encode(text) only: no start/end ids, no truncation "
                                       "(what OpenAI's SimpleTokenizer.encode returns)");
  app.add_flag("--jsonl", jsonl, "each input line is a JSON string or an object with \"text\" (multi-line texts)");
  app.add_flag("--decode", decode, "read one JSON array of ids per line and print the decoded text as a JSON string");
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_tokenize", [&] {
    const auto tokenizer = btadapter::make_tokenizer(config);
    std::ios::sync_with_stdio(false);
    std::string line;
    for (int64_t line_number = 1; std::getline(std::cin, line); ++line_number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (decode) {
        std::cout << json(tokenizer->decode(read_ids(line, line_number))).dump(-1, ' ', false, json::error_handler_t::replace)
                  << '\n';
        continue;
      }
      const std::string text = read_text(line, jsonl, line_number);
      const std::vector<int64_t> ids = ids_only ? tokenizer->encode(text) : tokenizer->frame(text);
      std::cout << '[';
      for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? ", " : "") << ids[i];
      std::cout << "]\n";
    }
    std::cout.flush();
    if (!std::cout) throw std::runtime_error("cannot write to stdout");
    return 0;
  });
}
