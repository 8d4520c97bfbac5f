// bench_tokenizer: CLIP BPE encode throughput (tokens per second, one thread) on a JSONL corpus such as
// shared/fixtures/tokenizer/cases.jsonl. Prints one JSON object. Compare with
//   python3 bench/tokenizer_reference.py --vocab VOCAB --bench CASES
// (OpenAI's SimpleTokenizer restated, `regex` module, no ftfy) on the same machine.
#include "btadapter/text/clip_tokenizer.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::string> read_texts(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> texts;
  std::string line;
  while (std::getline(in, line)) texts.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
  return texts;
}

// Encodes every text once; returns the number of ids.
int64_t encode_all(const btadapter::ClipTokenizer& tokenizer, const std::vector<std::string>& texts) {
  int64_t tokens = 0;
  for (const std::string& text : texts) tokens += static_cast<int64_t>(tokenizer.encode(text).size());
  return tokens;
}

// Seconds to decode `n` ids (words of "photo</w>"): linear since decode stopped replacing in place.
double decode_seconds(const btadapter::ClipTokenizer& tokenizer, int64_t n) {
  const std::vector<int64_t> word = tokenizer.encode("photo");
  std::vector<int64_t> ids;
  while (static_cast<int64_t>(ids.size()) < n) ids.insert(ids.end(), word.begin(), word.end());
  const auto start = Clock::now();
  const std::string text = tokenizer.decode(ids);
  const double seconds = seconds_since(start);
  if (text.empty()) throw std::runtime_error("decode returned nothing");
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::string vocab_path, cases_path;
  double min_seconds = 2.0;
  CLI::App app{"CLIP BPE tokenizer throughput"};
  app.add_option("--vocab", vocab_path, "bpe_simple_vocab_16e6.txt.gz or vocab.json")->required();
  app.add_option("--cases", cases_path, "JSONL with a \"text\" per line")->required();
  app.add_option("--seconds", min_seconds, "minimum timed duration of the warm passes")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const std::vector<std::string> texts = read_texts(cases_path);
    auto start = Clock::now();
    btadapter::ClipTokenizer tokenizer(btadapter::ClipBpeVocab::load(vocab_path));
    const double load_seconds = seconds_since(start);

    start = Clock::now();
    const int64_t tokens_per_pass = encode_all(tokenizer, texts);  // empty word cache
    const double cold_seconds = seconds_since(start);

    int64_t passes = 0;
    start = Clock::now();
    do {
      encode_all(tokenizer, texts);
      ++passes;
    } while (seconds_since(start) < min_seconds);
    const double warm_seconds = seconds_since(start);

    nlohmann::json report = {
        {"benchmark", "clip_bpe_encode"},
        {"texts", texts.size()},
        {"tokens_per_pass", tokens_per_pass},
        {"vocab_load_seconds", load_seconds},
        {"cold_pass_tokens_per_second", tokens_per_pass / cold_seconds},
        {"warm_passes", passes},
        {"warm_tokens_per_second", static_cast<double>(tokens_per_pass * passes) / warm_seconds},
        {"warm_texts_per_second", static_cast<double>(texts.size() * passes) / warm_seconds},
        {"threads", 1},
        {"decode_100k_ids_seconds", decode_seconds(tokenizer, 100000)},
        {"decode_800k_ids_seconds", decode_seconds(tokenizer, 800000)},
    };
    std::cout << report.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench_tokenizer: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
