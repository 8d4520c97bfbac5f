// CLIP BPE: parity with OpenAI's SimpleTokenizer on the shared fixture cases (both vocabulary layouts),
// BPE on tiny hand-made vocabularies, framing/truncation, decoding, and bad input.
#include <gtest/gtest.h>

#include "btadapter/text/clip_tokenizer.h"
#include "btadapter/text/utf8.h"
#include "support/test_support.h"
#include "text/tokenizer_cases.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <random>
#include <thread>

using btadapter::testing::clip_vocab;
using btadapter::testing::expect_error;
using btadapter::testing::TokenizerCase;
using btadapter::testing::tokenizer_cases;
using namespace btadapter;
using btadapter::testing::TempDir;
using nlohmann::json;

namespace {

const ClipTokenizer& openai_tokenizer() {
  static const ClipTokenizer tokenizer(ClipBpeVocab::load(clip_vocab()));
  return tokenizer;
}

void expect_parity(const ClipTokenizer& tokenizer) {
  int mismatches = 0;
  for (const TokenizerCase& c : tokenizer_cases()) {
    const std::vector<int64_t> ids = tokenizer.encode(c.text);
    if (ids != c.ids && ++mismatches <= 5) {
      ADD_FAILURE() << "text " << json(c.text).dump() << "\nexpected " << json(c.ids).dump() << "\nactual   "
                    << json(ids).dump();
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// A vocabulary from merges given as text (OpenAI layout, header line first).
ClipBpeVocab tiny_vocab(const std::string& merges) { return ClipBpeVocab::from_openai_merges("#header\n" + merges, "tiny"); }

// Independent restatement of OpenAI's bytes_to_unicode(): printable Latin-1 bytes stand for
// themselves, the others for U+0100 onwards; the vocabulary lists the printable ones first.
bool printable(int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); }

std::string byte_char_utf8(int b) {
  int cp = b;
  if (!printable(b)) {
    cp = 256;
    for (int x = 0; x < b; ++x) cp += !printable(x);
  }
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

// Writes HF's vocab.json + merges.txt for the CLIP merges, laid out as the HF hub files are, from the
// gunzipped OpenAI file (decompressed by the gzip tool, not by the code under test).
std::string write_hf_files(const TempDir& dir) {
  const std::string merges_path = (dir / "openai_merges.txt").string();
  const auto gunzip = btadapter::testing::run_command("gzip -dc '" + clip_vocab() + "' > '" + merges_path + "'");
  EXPECT_EQ(gunzip.exit_code, 0) << gunzip.output;
  std::ifstream in(merges_path);
  std::string line;
  std::getline(in, line);  // OpenAI header
  std::vector<std::string> merges;
  while (merges.size() < 48894 && std::getline(in, line)) merges.push_back(line);
  std::vector<std::string> vocab;
  std::vector<int> order;
  for (int b = 0; b < 256; ++b) if (printable(b)) order.push_back(b);
  for (int b = 0; b < 256; ++b) if (!printable(b)) order.push_back(b);
  for (int b : order) vocab.push_back(byte_char_utf8(b));
  for (int b : order) vocab.push_back(byte_char_utf8(b) + "</w>");
  for (const std::string& m : merges) vocab.push_back(m.substr(0, m.find(' ')) + m.substr(m.find(' ') + 1));
  vocab.push_back("<|startoftext|>");
  vocab.push_back("<|endoftext|>");
  json encoder = json::object();
  for (size_t i = 0; i < vocab.size(); ++i) encoder[vocab[i]] = i;
  std::ofstream(dir / "vocab.json") << encoder.dump();
  std::ofstream merges_out(dir / "merges.txt");
  merges_out << "#version: 0.2\n";
  for (const std::string& m : merges) merges_out << m << "\n";
  return (dir / "vocab.json").string();
}

// OpenAI's bpe() as written in Python (quadratic), the brute-force reference for merge_word.
std::vector<int32_t> reference_bpe(const ClipBpeVocab& vocab, const std::string& word) {
  std::vector<int32_t> symbols;
  for (size_t i = 0; i < word.size(); ++i) symbols.push_back(vocab.byte_id(static_cast<uint8_t>(word[i]), i + 1 == word.size()));
  while (symbols.size() > 1) {
    const ClipBpeVocab::Merge* best = nullptr;
    int32_t first = 0, second = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const auto* m = vocab.find_merge(symbols[i], symbols[i + 1]);
      if (m && (!best || m->rank < best->rank)) best = m, first = symbols[i], second = symbols[i + 1];
    }
    if (!best) break;
    std::vector<int32_t> merged;
    for (size_t i = 0; i < symbols.size();) {
      if (i + 1 < symbols.size() && symbols[i] == first && symbols[i + 1] == second) {
        merged.push_back(best->merged);
        i += 2;
      } else {
        merged.push_back(symbols[i++]);
      }
    }
    symbols = merged;
  }
  return symbols;
}

}  // namespace

TEST(ClipTokenizer, MatchesOpenAIOnEveryFixtureCase) { expect_parity(openai_tokenizer()); }

TEST(ClipTokenizer, ConcurrentEncodingSharesTheCacheSafely) {
  const ClipTokenizer tokenizer(ClipBpeVocab::load(clip_vocab()));  // fresh, empty cache
  const std::vector<TokenizerCase> cases = tokenizer_cases();
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < cases.size(); ++i) {
        const TokenizerCase& c = cases[(i * 7 + t * 131) % cases.size()];
        mismatches[t] += tokenizer.encode(c.text) != c.ids;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(ClipTokenizer, HuggingFaceFilesGiveIdenticalIds) {
  TempDir dir;
  const std::string vocab_json = write_hf_files(dir);
  const ClipBpeVocab hf = ClipBpeVocab::load(vocab_json);
  EXPECT_EQ(hf.size(), 49408);
  EXPECT_EQ(hf.num_merges(), 48894);
  EXPECT_EQ(hf.bos_id(), 49406);
  EXPECT_EQ(hf.eos_id(), 49407);
  expect_parity(ClipTokenizer(hf));
  // The folder form finds vocab.json + merges.txt.
  EXPECT_EQ(ClipTokenizer(ClipBpeVocab::load(dir.path().string())).encode("a photo"), (std::vector<int64_t>{320, 1125}));
}

TEST(ClipTokenizer, TinyVocabularyMergesByRank) {
  // ids: 0-511 bytes, 512 "lo</w>", 513 "he", 514 "llo</w>", 515 "hello</w>", 516/517 specials.
  ClipTokenizer tokenizer(tiny_vocab("l o</w>\nh e\nl lo</w>\nhe llo</w>\n"));
  EXPECT_EQ(tokenizer.vocab_size(), 518);
  EXPECT_EQ(tokenizer.encode("Hello"), (std::vector<int64_t>{515}));
  // "helo": l o</w> -> lo</w>, h e -> he; no "he lo</w>" merge.
  EXPECT_EQ(tokenizer.encode("helo"), (std::vector<int64_t>{513, 512}));
  EXPECT_EQ(tokenizer.encode("<|startoftext|>hello<|endoftext|>"), (std::vector<int64_t>{516, 515, 517}));
  EXPECT_EQ(tokenizer.framing().bos_id, 516);
  EXPECT_EQ(tokenizer.framing().eos_id, 517);
}

TEST(ClipTokenizer, OneRankIsMergedEverywhereBeforeLowerRanksItCreates) {
  // "ab a" ranks before "a b" (allowed by the file format). Python merges every "a b" first, giving
  // [ab, ab, c</w>]; merging "ab a" as soon as it appears would give [aba, b, c</w>].
  const ClipBpeVocab vocab = tiny_vocab("ab a\na b\n");
  ClipTokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.bpe("ababc"), reference_bpe(vocab, "ababc"));
  EXPECT_EQ(tokenizer.bpe("ababc").size(), 3u);
  ClipTokenizer pairs(tiny_vocab("a a\n"));  // "a a a a</w>" -> "aa a a</w>": left to right, no overlap
  EXPECT_EQ(pairs.bpe("aaaa"), (std::vector<int32_t>{512, 64, 320}));
  EXPECT_EQ(pairs.bpe("aaaa"), reference_bpe(pairs.vocab(), "aaaa"));
}

TEST(ClipTokenizer, BpeMatchesTheQuadraticReferenceOnRandomWords) {
  const ClipTokenizer& tokenizer = openai_tokenizer();
  std::mt19937 rng(0);
  const std::string letters = "etaoinshrdlucmfwypvbgkqjxz";
  for (int trial = 0; trial < 200; ++trial) {
    std::string word;
    const int length = 1 + static_cast<int>(rng() % (trial < 190 ? 30 : 600));
    for (int i = 0; i < length; ++i) word.push_back(letters[rng() % (rng() % 2 ? 6 : letters.size())]);
    ASSERT_EQ(tokenizer.bpe(word), reference_bpe(tokenizer.vocab(), word)) << word;
  }
}

TEST(ClipTokenizer, OpenAIFramingPadsAndForcesEotWhenCut) {
  const ClipTokenizer& tokenizer = openai_tokenizer();
  const torch::Tensor short_ids = tokenizer.tokenize({"a cat", ""});
  ASSERT_EQ(short_ids.sizes(), (std::vector<int64_t>{2, 77}));
  EXPECT_EQ(short_ids.dtype(), torch::kInt64);
  std::vector<int64_t> expected(77, 0);
  expected[0] = 49406, expected[1] = 320, expected[2] = 2368, expected[3] = 49407;
  EXPECT_TRUE(torch::equal(short_ids[0], torch::tensor(expected)));
  EXPECT_EQ(short_ids[1][0].item<int64_t>(), 49406);
  EXPECT_EQ(short_ids[1][1].item<int64_t>(), 49407);

  const std::vector<int64_t> ids = tokenizer.encode(std::string(100, '7'));  // 100 single digits
  ASSERT_EQ(ids.size(), 100u);
  const std::vector<int64_t> row = tokenizer.frame(std::string(100, '7'));
  ASSERT_EQ(row.size(), 77u);
  EXPECT_EQ(row.front(), 49406);
  EXPECT_EQ(row[75], ids[74]);
  EXPECT_EQ(row.back(), 49407);
  // 75 ids fit exactly with sot and eot; 76 are cut.
  EXPECT_EQ(tokenizer.frame(std::string(75, '7')).back(), 49407);
  EXPECT_EQ(tokenizer.frame(std::string(75, '7'))[75], ids[74]);
  EXPECT_EQ(tokenizer.frame(std::string(76, '7'))[75], ids[74]);
}

TEST(ClipTokenizer, OfficialSliceDropsEotOfLongCaptions) {
  const ClipBpeVocab vocab = ClipBpeVocab::load(clip_vocab());
  TokenFraming framing;
  framing.truncation = Truncation::parse("official:32");
  ClipTokenizer tokenizer(vocab, framing);
  const std::vector<int64_t> ids = tokenizer.encode(std::string(100, '7'));
  const torch::Tensor rows = tokenizer.tokenize({std::string(100, '7'), std::string(30, '7'), "a cat"});
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{3, 32}));
  EXPECT_EQ(rows[0][0].item<int64_t>(), 49406);
  EXPECT_EQ(rows[0][31].item<int64_t>(), ids[30]);  // an ordinary token where EOT would be
  EXPECT_EQ(rows[1][31].item<int64_t>(), 49407);    // 30 ids + sot + eot fit exactly
  EXPECT_EQ(rows[2][3].item<int64_t>(), 49407);
  EXPECT_EQ(rows[2][4].item<int64_t>(), 0);
  // The slice applies after the 77-position cut: official:64 of 100 digits never holds EOT.
  framing.truncation = Truncation::parse("official:64");
  EXPECT_EQ(ClipTokenizer(vocab, framing).frame(std::string(100, '7')).back(), ids[62]);
}

TEST(ClipTokenizer, DecodeJoinsWordsWithSpacesAndReplacesBrokenUtf8) {
  const ClipTokenizer& tokenizer = openai_tokenizer();
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("A photo of a CAT.")), "a photo of a cat . ");
  EXPECT_EQ(tokenizer.decode({49406, 320, 49407}), "<|startoftext|>a <|endoftext|>");
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("\u65e5\u672c")), "\u65e5\u672c ");
  const int64_t lead_byte = tokenizer.vocab().byte_id(0xE6, false);  // first byte of U+65E5 alone
  EXPECT_EQ(tokenizer.decode({lead_byte, 320}), "\ufffda ");
  expect_error([&] { tokenizer.decode({49408}); }, "expected an id in [0, 49408), got 49408");
}

TEST(ClipTokenizer, InvalidUtf8IsReplacedNotFatal) {
  // Expected ids: SimpleTokenizer().encode(bytes.decode("utf-8", "replace")).
  const ClipTokenizer& tokenizer = openai_tokenizer();
  EXPECT_EQ(tokenizer.encode("caf\xc3"), (std::vector<int64_t>{20867, 39802}));
  EXPECT_EQ(tokenizer.encode("\xff\xfeok"), (std::vector<int64_t>{47356, 39802, 2481}));
  EXPECT_EQ(tokenizer.encode("a\xed\xa0\x80" "b"), (std::vector<int64_t>{320, 47356, 47356, 39802, 321}));
}

TEST(ClipTokenizer, OneMegabyteLinesAreHandled) {
  const ClipTokenizer& tokenizer = openai_tokenizer();
  std::string words;
  while (words.size() < (1 << 20)) words += "hello world ";
  const std::vector<int64_t> ids = tokenizer.encode(words);
  ASSERT_EQ(ids.size(), 2 * ((1 << 20) / 12 + 1));
  EXPECT_EQ(ids[0], 3306);
  EXPECT_EQ(ids[1], 1002);
  // One 1 MB word goes through the O(n log n) merge and decodes back to itself.
  const std::string word(1 << 20, 'a');
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(word)), word + " ");
  std::mt19937 rng(1);
  std::string noise(1 << 20, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  EXPECT_FALSE(tokenizer.encode(noise).empty());
}

// A 50 MB one-word line took 41 s and 3 GB in BPE; past kMaxWordBytes a word is refused before BPE.
TEST(ClipTokenizer, WordsLongerThanTheBoundAreRefused) {
  const ClipTokenizer& tokenizer = openai_tokenizer();
  const std::string word(ClipTokenizer::kMaxWordBytes + 1, 'a');
  btadapter::testing::expect_error([&] { tokenizer.encode("a cat " + word + " runs"); },
                                   "CLIP tokenizer: expected words of at most 1048576 bytes, got one of 1048577 bytes: 'aaaa");
  btadapter::testing::expect_error([&] { tokenizer.tokenize({"ok", word}); }, "got one of 1048577 bytes");
}

// Decoding is linear (800k ids took 22 s when each </w> was replaced in place); the result is unchanged.
TEST(ClipTokenizer, DecodeOfManyIdsReplacesEveryWordEnd) {
  const ClipTokenizer& tokenizer = openai_tokenizer();
  const std::vector<int64_t> cat = tokenizer.encode("cat");
  std::vector<int64_t> ids;
  for (int i = 0; i < 100000; ++i) ids.insert(ids.end(), cat.begin(), cat.end());
  std::string expected;
  for (int i = 0; i < 100000; ++i) expected += "cat ";
  EXPECT_EQ(tokenizer.decode(ids), expected);
  EXPECT_EQ(tokenizer.decode({}), "");
  // Random ids (broken UTF-8 and "</w>" spanning tokens included) against the in-place reference.
  std::mt19937 rng(7);
  std::vector<int64_t> random_ids(3000);
  for (auto& id : random_ids) id = static_cast<int64_t>(rng() % static_cast<uint32_t>(tokenizer.vocab().size()));
  std::string reference;
  for (int64_t id : random_ids) reference += tokenizer.vocab().token_bytes(id);
  reference = btadapter::text::utf8_sanitize(reference);
  for (size_t at = reference.find("</w>"); at != std::string::npos; at = reference.find("</w>", at + 1)) {
    reference.replace(at, 4, " ");
  }
  EXPECT_EQ(tokenizer.decode(random_ids), reference);
}

TEST(ClipBpeVocab, OpenAIFileHasTheDocumentedLayout) {
  const ClipBpeVocab& vocab = openai_tokenizer().vocab();
  EXPECT_EQ(vocab.size(), 49408);
  EXPECT_EQ(vocab.token(0), "!");
  EXPECT_EQ(vocab.token(256), "!</w>");
  EXPECT_EQ(vocab.token(320), "a</w>");
  EXPECT_EQ(vocab.token(49406), "<|startoftext|>");
  EXPECT_EQ(vocab.byte_id(' ', false), 220);  // 188 printable bytes, then space is the 33rd other
  EXPECT_EQ(vocab.token(vocab.byte_id(' ', false)), "\u0120");
}

TEST(ClipBpeVocab, BadFilesGiveClearErrors) {
  TempDir dir;
  expect_error([&] { ClipBpeVocab::load((dir / "missing.txt.gz").string()); }, "file not found: ");
  expect_error([&] { ClipBpeVocab::load(""); }, "expected a vocabulary path");
  expect_error([&] { ClipBpeVocab::load(dir.path().string()); }, "has neither vocab.json + merges.txt");
  {
    std::ifstream in(clip_vocab(), std::ios::binary);
    std::string head(4000, '\0');
    in.read(head.data(), head.size());
    std::ofstream(dir / "truncated.gz", std::ios::binary) << head;
  }
  expect_error([&] { ClipBpeVocab::load((dir / "truncated.gz").string()); }, "corrupt gzip data in " + (dir / "truncated.gz").string());
  std::ofstream(dir / "bad.txt") << "#header\na b\nc d e\n";
  expect_error([&] { ClipBpeVocab::load((dir / "bad.txt").string()); },
               "bad.txt line 3: expected a merge of two space-separated symbols, got 'c d e'");
  std::ofstream(dir / "empty.txt") << "";
  expect_error([&] { ClipBpeVocab::load((dir / "empty.txt").string()); }, "is empty");
  std::ofstream(dir / "vocab.json") << "{\"a\": 0";
  expect_error([&] { ClipBpeVocab::load((dir / "vocab.json").string()); }, "needs merges.txt beside it");
  std::ofstream(dir / "merges.txt") << "#version: 0.2\na b\n";
  expect_error([&] { ClipBpeVocab::load((dir / "vocab.json").string()); }, "is not valid JSON");
  std::ofstream(dir / "vocab.json") << "{\"a\": 0, \"b\": \"one\"}";
  expect_error([&] { ClipBpeVocab::load((dir / "vocab.json").string()); }, "key 'b': expected a non-negative integer id");
  std::ofstream(dir / "vocab.json") << "{\"a\": 0, \"b\": 1}";
  expect_error([&] { ClipBpeVocab::load((dir / "vocab.json").string()); }, "lacks the token of byte 0");
}
