// Hostile HF vocab.json files: deep nesting, NUL and garbage after the object, huge ids, and seeded
// mutations of a small valid vocabulary.
#include "btadapter/text/clip_bpe_vocab.h"
#include "btadapter/text/utf8.h"

#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using btadapter::ClipBpeVocab;
using btadapter::testing::error_of;
using btadapter::testing::expect_error;
using btadapter::testing::TempDir;

namespace {

// A minimal complete vocabulary: the 256 byte tokens, with and without </w>, two merges, the specials.
nlohmann::ordered_json tiny_hf_vocab() {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (int end = 0; end < 2; ++end) {
    for (int b = 0; b < 256; ++b) {
      std::string token;
      btadapter::text::utf8_append(btadapter::clip_byte_char(static_cast<uint8_t>(b)), token);
      vocab[token + (end ? "</w>" : "")] = static_cast<int>(vocab.size());
    }
  }
  for (const char* token : {"ab", "ab</w>", "<|startoftext|>", "<|endoftext|>"}) vocab[token] = static_cast<int>(vocab.size());
  return vocab;
}

const char* kTinyMerges = "#version: 0.2\na b\na b</w>\n";

}  // namespace

TEST(HostileVocab, DeepNulGarbageAndHugeIdsAreRefusedNamingTheFile) {
  const std::string good = tiny_hf_vocab().dump();
  EXPECT_EQ(ClipBpeVocab::from_hf(good, kTinyMerges, "dir/vocab.json").size(), 516);
  const std::string body = good.substr(0, good.size() - 1);
  for (const auto& [text, problem] : std::vector<std::pair<std::string, std::string>>{
           {body + ",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}", "nest deeper than 128"},
           {good + std::string("\0garbage", 8), "NUL byte at offset"},
           {good + " x", "is not valid JSON"},
           {body + ",\"zz\":2147483647}", "id 2147483647 is not below the 517 tokens"},
           {body + ",\"zz\":[" + std::string(1000, '7') + "]}", "number overflow parsing '777"},
           {body + ",\"zz\":[7" + std::string(1000, ',') + "]}", "is not valid JSON"},
           {body + ",\"zz\":\"" + std::string(100000, 'q') + "\"}", "expected a non-negative integer id, got \"qqq"}}) {
    const std::string msg = expect_error([&] { ClipBpeVocab::from_hf(text, kTinyMerges, "dir/vocab.json"); },
                                         {"CLIP vocabulary: dir/vocab.json", problem});
    EXPECT_LT(msg.size(), 400u) << msg;
  }
  TempDir dir;
  std::ofstream(dir / "vocab.json") << body << ",\"zz\":" << std::string(100000, '{') << "}";
  std::ofstream(dir / "merges.txt") << kTinyMerges;
  const std::string path = (dir / "vocab.json").string();
  expect_error([&] { ClipBpeVocab::load(path); },
               "CLIP vocabulary: " + path + " is not valid JSON: arrays/objects nest deeper");
}

// A mutant either fails naming the file or loads a vocabulary whose text is valid JSON without a NUL
// byte and whose ids are exactly 0..N-1 for its N keys.
TEST(HostileVocab, SeededMutationsNeverCrashOrLoadABrokenFile) {
  const std::string good = tiny_hf_vocab().dump();
  std::mt19937 rng(19);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const char* alphabet = "{}[]\",:\\ \0\n0123456789-.eu";
  int refused = 0, loaded = 0;
  const int kMutants = 1500;
  for (int m = 0; m < kMutants; ++m) {
    std::string text = good;
    switch (pick(6)) {
      case 0: text[pick(text.size())] = alphabet[pick(25)]; break;
      case 1: text[pick(text.size())] ^= static_cast<char>(1 << pick(8)); break;
      case 2: text.resize(pick(text.size())); break;
      case 3: text.insert(pick(text.size()), 1 + pick(3), alphabet[pick(25)]); break;
      case 4: text.insert(pick(text.size()), std::string(100000, '[')); break;
      default: text.erase(pick(text.size()), 1 + pick(4)); break;
    }
    int64_t size = -1;
    const std::string msg = error_of([&] { size = ClipBpeVocab::from_hf(text, kTinyMerges, "dir/vocab.json").size(); });
    if (msg != "(no error)") {
      ++refused;
      ASSERT_NE(msg.find("dir/"), std::string::npos) << "mutant " << m << ": " << msg;
      continue;
    }
    ++loaded;
    ASSERT_EQ(text.find('\0'), std::string::npos) << "mutant " << m;
    ASSERT_TRUE(nlohmann::json::accept(text)) << "mutant " << m;
    const auto parsed = nlohmann::json::parse(text);
    ASSERT_EQ(static_cast<int64_t>(parsed.size()), size) << "mutant " << m;
  }
  std::cout << "[ fuzz     ] vocab.json: " << kMutants << " mutants, " << refused << " refused, " << loaded << " loaded"
            << std::endl;
  EXPECT_GT(refused, kMutants / 2);
}

// A gzip bomb (128 MiB of zeros in well under 1 MiB) is refused once kMaxVocabBytes are inflated, not after
// inflating it all; the same file cut to a real vocabulary's size would load.
TEST(HostileVocab, AGzipBombIsRefusedWhileInflating) {
  TempDir dir;
  const std::string bomb = (dir / "bpe_simple_vocab_16e6.txt.gz").string();
  const auto made = btadapter::testing::run_command("head -c 134217728 /dev/zero | gzip -1 > '" + bomb + "'");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_LT(std::filesystem::file_size(bomb), 2u << 20);
  const std::string msg = error_of([&] { ClipBpeVocab::load(bomb); });
  EXPECT_NE(msg.find("CLIP vocabulary: " + bomb + " inflates to more than 67108864 bytes"), std::string::npos) << msg;
}
