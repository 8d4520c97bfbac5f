// Hostile annotation files: ann_deep JSON, empty captions, trailing garbage, CR-only lines, cut CSVs, NUL and
// huge keys, and a seeded mutation run per reader.
#include "btadapter/data/annotations.h"

#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using namespace btadapter::data;
using btadapter::testing::error_of;
using btadapter::testing::expect_error;
using btadapter::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string ann_write_text(const TempDir& dir, const std::string& name, const std::string& text) {
  const fs::path path = dir / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path.string();
}

std::string ann_deep(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

void ann_expect_in(const std::string& message, const std::vector<std::string>& needles) {
  for (const auto& n : needles) EXPECT_NE(message.find(n), std::string::npos) << message;
}

const AnnotationOptions kAnnSkip = AnnotationOptions().skip_bad_rows(true);

const char* kAnnWebvid =
    "videoid,name,page_idx,page_dir,duration,contentUrl\n"
    "11,A dog runs.,1,001_050,PT1S,https://x/11.mp4\n"
    "12,\"A cat, sleeping\",1,001_050,PT2S,https://x/12.mp4\n";

}  // namespace

TEST(HostileAnnotations, DeepJsonInsideAnItemIsRefusedNamingTheFile) {
  TempDir dir;
  const std::string list = R"([{"video": "a.mp4", "caption": "x", "extra": )" + ann_deep(100000) + "}]";
  const std::string dict = R"({"a.mp4": )" + ann_deep(100000) + "}";
  for (const auto& [format, text] : std::vector<std::pair<std::string, std::string>>{
           {"vindlu-json", list}, {"anet-json", list}, {"paragraph-json", list}, {"msrvtt-json", dict},
           {"didemo-json", dict}, {"lsmdc-json", dict}}) {
    const auto path = ann_write_text(dir, format + ".json", text);
    expect_error([&] { read_annotations(path, format, kAnnSkip); },
                 {"annotation file '" + path + "' is not valid JSON", "nest deeper than 128 levels"});
  }
  const auto jsonl = ann_write_text(dir, "a.jsonl", R"({"video": "a.mp4", "caption": )" + ann_deep(100000) + "}\n" +
                                                    R"({"video": "b.mp4", "caption": "fine"})" + "\n");
  const auto a = read_annotations(jsonl, "jsonl", kAnnSkip);
  ASSERT_EQ(a.samples.size(), 1u);
  ASSERT_EQ(a.bad_rows.size(), 1u);
  ann_expect_in(a.bad_rows[0].reason, {"a.jsonl' line 1: not valid JSON", "nest deeper"});
}

TEST(HostileAnnotations, EmptyCaptionsAreBadRows) {
  TempDir dir;
  const auto vindlu = ann_write_text(dir, "v.json", R"([{"video": "a.mp4", "caption": " \t"}, {"video": "b.mp4", "caption": "ok"}])");
  expect_error([&] { read_annotations(vindlu, "vindlu-json"); },
               {"vindlu-json annotations '" + vindlu + "' entry 1 ('a.mp4'): empty caption"});
  const auto v = read_annotations(vindlu, "vindlu-json", kAnnSkip);
  EXPECT_EQ(v.samples.size(), 1u);
  EXPECT_EQ(v.bad_rows.size(), 1u);
  const auto msrvtt = ann_write_text(dir, "m.json", R"({"a.mp4": ["", "a sentence"], "b.mp4": ["  "]})");
  const auto m = read_annotations(msrvtt, "msrvtt-json", kAnnSkip);
  EXPECT_EQ(m.samples.size(), 1u);
  ASSERT_EQ(m.bad_rows.size(), 2u);
  ann_expect_in(m.bad_rows[1].reason, {"entry 2 ('b.mp4'): empty caption"});
  const auto csv = ann_write_text(dir, "g.csv", "video,caption\na.mp4,   \nb.mp4,fine\n");
  expect_error([&] { read_annotations(csv, "csv"); }, {"csv annotations '" + csv + "' line 2: empty caption"});
  const auto paragraph = ann_write_text(dir, "p.json", R"([{"video": "a.mp4", "caption": ["", " "]}])");
  expect_error([&] { read_annotations(paragraph, "anet-json"); }, {"entry 1 ('a.mp4'): empty caption"});
  // Recognition lists carry labels, not captions.
  const auto k400 = ann_write_text(dir, "k.txt", "a.mp4 3\n");
  EXPECT_EQ(read_annotations(k400, "k400").samples.size(), 1u);
}

TEST(HostileAnnotations, GarbageOrANulAfterTheJsonDocumentIsAnError) {
  TempDir dir;
  const std::string doc = R"([{"video": "a.mp4", "caption": "x"}])";
  for (const std::string& tail : {std::string("\0garbage", 8), std::string(" garbage"), std::string("[]")}) {
    const auto path = ann_write_text(dir, "t.json", doc + tail);
    expect_error([&] { read_annotations(path, "vindlu-json", kAnnSkip); },
                 {"annotation file '" + path + "' is not valid JSON"});
  }
  const auto nul = ann_write_text(dir, "n.json", doc + std::string("\0", 1));
  expect_error([&] { read_annotations(nul, "vindlu-json"); }, {"NUL byte at offset " + std::to_string(doc.size())});
  const auto jsonl = ann_write_text(dir, "n.jsonl", R"({"video": "a.mp4", "caption": "x"})" + std::string("\0zz\n", 4));
  expect_error([&] { read_annotations(jsonl, "jsonl"); }, {"n.jsonl' line 1: not valid JSON: NUL byte"});
  EXPECT_EQ(read_annotations(ann_write_text(dir, "ok.json", doc + " \n"), "vindlu-json").samples.size(), 1u);
}

TEST(HostileAnnotations, CrOnlyLineEndsAreLines) {
  TempDir dir;
  std::string text = kAnnWebvid;
  std::replace(text.begin(), text.end(), '\n', '\r');
  const auto a = read_annotations(ann_write_text(dir, "cr.csv", text), "webvid");
  ASSERT_EQ(a.samples.size(), 2u);
  EXPECT_EQ(a.samples[1].caption, "A cat, sleeping");
  EXPECT_EQ(a.samples[1].row, 3);
  EXPECT_TRUE(a.warnings.empty());
  const auto k = read_annotations(ann_write_text(dir, "cr.txt", "a.mp4 1\rb.mp4 2\r\nc.mp4 3\n"), "k400");
  ASSERT_EQ(k.samples.size(), 3u);
  EXPECT_EQ(k.samples[2].row, 3);
  // JSONL and class-name files too: a classic Mac file is as many rows as it shows, not one bad row.
  const auto jsonl = ann_write_text(dir, "cr.jsonl",
                                    "{\"video\": \"a.mp4\", \"caption\": \"x\"}\r\r{\"video\": \"b.mp4\", \"caption\": \"y\", \"label\": 1}\r");
  const auto names = ann_write_text(dir, "names.txt", "cat\rdog\r");
  const auto j = read_annotations(jsonl, "jsonl", AnnotationOptions().class_names(names));
  ASSERT_EQ(j.samples.size(), 2u);
  EXPECT_EQ(j.samples[1].row, 3);
  EXPECT_EQ(j.class_names, (std::vector<std::string>{"cat", "dog"}));
}

TEST(HostileAnnotations, ACutCsvRowIsABadRowAndAMissingLastLineBreakIsCounted) {
  TempDir dir;
  const std::string full = kAnnWebvid;
  const auto cut_mid = ann_write_text(dir, "mid.csv", full.substr(0, full.find("PT2S")));
  const auto a = read_annotations(cut_mid, "webvid", kAnnSkip);
  EXPECT_EQ(a.samples.size(), 1u);
  ASSERT_EQ(a.bad_rows.size(), 1u);
  ann_expect_in(a.bad_rows[0].reason, {"mid.csv' line 3: expected 6 columns", "got 5"});
  ASSERT_EQ(a.warnings.size(), 1u);
  ann_expect_in(a.warnings[0], {"webvid annotations '" + cut_mid + "' line 3", "ends without a line break"});
  const auto cut_last = ann_write_text(dir, "last.csv", full.substr(0, full.size() - 1));
  const auto b = read_annotations(cut_last, "webvid");
  EXPECT_EQ(b.samples.size(), 2u);
  ASSERT_EQ(b.warnings.size(), 1u);
  ann_expect_in(b.warnings[0], {"line 3"});
  const auto quoted = ann_write_text(dir, "q.csv", full.substr(0, full.find("sleeping")));
  expect_error([&] { read_annotations(quoted, "webvid"); },
               {"line 3: a quoted field opened on this line never closes"});
}

TEST(HostileAnnotations, NulAndHugeKeysFlagOneRow) {
  TempDir dir;
  const auto nul = ann_write_text(dir, "nul.json", R"({"vid\u0000eo.mp4": ["x"], "b.mp4": ["y"]})");
  expect_error([&] { read_annotations(nul, "msrvtt-json"); },
               {"entry 1 ('vid\\x00eo.mp4')", "the video name holds a NUL character"});
  const std::string huge(10 << 20, 'k');
  const auto big = ann_write_text(dir, "big.json", "{\"" + huge + "\": [\"x\"], \"b.mp4\": [\"y\"]}");
  const auto a = read_annotations(big, "msrvtt-json", kAnnSkip);
  ASSERT_EQ(a.samples.size(), 1u);
  EXPECT_EQ(a.samples[0].id, "b.mp4");
  ASSERT_EQ(a.bad_rows.size(), 1u);
  ann_expect_in(a.bad_rows[0].reason, {"entry 1 ('kkk", "bytes)')", "longer than a file name may be (255)"});
  EXPECT_LT(a.bad_rows[0].reason.size(), 600u);
  const auto list = ann_write_text(dir, "big_list.json", "[{\"video\": \"" + huge + "\", \"caption\": \"x\"}]");
  EXPECT_EQ(read_annotations(list, "anet-json", AnnotationOptions().skip_bad_rows(true).root(dir.path().string()))
                .bad_rows.size(),
            1u);
}

// Seeded mutations of a file the test writes, per reader. A mutant is read with skip_bad_rows: it either
// throws a message naming the file, or gives samples that keep the invariants checked here: no empty
// caption, no NUL in a video name, and for JSON formats a text that is valid JSON without a NUL byte.
TEST(HostileAnnotations, SeededMutationsNeverCrashOrAcceptABrokenFile) {
  TempDir dir;
  const std::vector<std::tuple<std::string, std::string, bool>> cases = {
      {"vindlu-json", R"([{"video": "a.mp4", "caption": "x y"}, {"video": "b", "caption": ["p", "q"]}])", true},
      {"anet-json", R"([{"video": "v_1.mp4", "caption": ["one.", "two."]}, {"video": "v_2.mp4", "caption": "z"}])", true},
      {"msrvtt-json", R"({"video1.mp4": ["a man", "a dog"], "video2.mp4": ["sky"]})", true},
      {"didemo-json", R"({"1.mp4": ["a", "b"], "2.mp4": "c"})", true},
      {"lsmdc-json", R"({"m/1.avi": "text one", "m/2.avi": "text two"})", true},
      {"jsonl", "{\"video\": \"a.mp4\", \"caption\": \"x\", \"label\": 1}\n{\"video\": \"b.mp4\", \"caption\": \"y\"}\n", false},
      {"webvid", kAnnWebvid, false},
      {"csv", "video,caption,label\na.mp4,\"one, two\",1\nb.mp4,three,\n", false},
  };
  std::mt19937 rng(19);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const char* alphabet = "{}[]\",:\\ \0\n\rab01u";
  const int kPerFormat = 500;
  for (const auto& [format, original, is_json] : cases) {
    int refused = 0, loaded = 0, rows_flagged = 0;
    const auto path = (dir / ("mutant." + format)).string();
    for (int m = 0; m < kPerFormat; ++m) {
      std::string text = original;
      switch (pick(6)) {
        case 0: text[pick(text.size())] = alphabet[pick(17)]; break;
        case 1: text[pick(text.size())] ^= static_cast<char>(1 << pick(8)); break;
        case 2: text.resize(pick(text.size())); break;
        case 3: text.insert(pick(text.size()), 1 + pick(3), alphabet[pick(17)]); break;
        case 4: text.insert(pick(text.size()), std::string(100000, '[')); break;
        default: text.erase(pick(text.size()), 1 + pick(4)); break;
      }
      std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
      Annotations a;
      const std::string msg = error_of([&] { a = read_annotations(path, format, kAnnSkip); });
      if (msg != "(no error)") {
        ++refused;
        ASSERT_NE(msg.find("'" + path + "'"), std::string::npos) << format << " mutant " << m << ": " << msg;
        continue;
      }
      ++loaded;
      rows_flagged += static_cast<int>(a.bad_rows.size());
      for (const auto& s : a.samples) {
        ASSERT_TRUE(!s.caption.empty() || s.label >= 0) << format << " mutant " << m;
        ASSERT_EQ(s.video.find('\0'), std::string::npos) << format << " mutant " << m;
      }
      for (const auto& bad : a.bad_rows) ASSERT_NE(bad.reason.find("'" + path + "'"), std::string::npos) << bad.reason;
      if (is_json) {
        ASSERT_EQ(text.find('\0'), std::string::npos) << format << " mutant " << m;
        ASSERT_TRUE(nlohmann::json::accept(text)) << format << " mutant " << m << ": " << text;
      }
    }
    std::cout << "[ fuzz     ] " << format << ": " << kPerFormat << " mutants, " << refused << " refused, " << loaded
              << " loaded (" << rows_flagged << " bad rows flagged)" << std::endl;
  }
}
