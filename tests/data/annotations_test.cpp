// Every annotation format on small files in the real layouts, malformed rows, and the registry.
#include "btadapter/data/annotations.h"
#include "btadapter/data/csv.h"

#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace btadapter::data;
using btadapter::testing::expect_error;
using btadapter::testing::TempDir;
namespace fs = std::filesystem;

namespace {
std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const fs::path path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

// The first row is real (reference.md 1); the second is in the real format with a quoted comma.
const char* kWebvid2m =
    "videoid,name,page_idx,page_dir,duration,contentUrl\r\n"
    "1053841541,Travel blogger shoot a story on top of mountains.,27732,027701_027750,PT00H00M17S,"
    "https://ak.picdn.net/shutterstock/videos/1053841541/preview/stock-footage-travel-blogger.mp4\r\n"
    "21179416,\"Aerial view of a winding road through autumn forest, drone shot\",1891,001851_001900,PT00H00M24S,"
    "https://ak.picdn.net/shutterstock/videos/21179416/preview/stock-footage-aerial.mp4\r\n";
}  // namespace

TEST(Annotations, WebVid2mCsv) {
  TempDir dir;
  const auto a = read_annotations(write_file(dir, "results_2M_val.csv", kWebvid2m), "webvid",
                                  AnnotationOptions().root("/data/webvid"));
  ASSERT_EQ(a.samples.size(), 2u);
  EXPECT_EQ(a.samples[0].video, "/data/webvid/027701_027750/1053841541.mp4");
  EXPECT_EQ(a.samples[0].caption, "Travel blogger shoot a story on top of mountains.");
  EXPECT_EQ(a.samples[0].id, "1053841541");
  EXPECT_EQ(a.samples[0].row, 2);
  EXPECT_EQ(a.samples[1].caption, "Aerial view of a winding road through autumn forest, drone shot");
  EXPECT_EQ(a.samples[1].video, "/data/webvid/001851_001900/21179416.mp4");
  EXPECT_EQ(a.format, "webvid");
}

TEST(Annotations, WebVid10mColumnOrder) {
  TempDir dir;
  const auto a = read_annotations(
      write_file(dir, "10m.csv",
                 "videoid,contentUrl,duration,page_dir,name\n"
                 "31353427,https://ak.picdn.net/x.mp4,PT00H00M15S,006001_006050,\"Cat, sleeping \"\"soundly\"\"\"\n"),
      "webvid10m", AnnotationOptions().root("r"));
  ASSERT_EQ(a.samples.size(), 1u);
  EXPECT_EQ(a.samples[0].video, "r/006001_006050/31353427.mp4");
  EXPECT_EQ(a.samples[0].caption, "Cat, sleeping \"soundly\"");
}

TEST(Annotations, MsrvttJsfusionJsonKeepsFileOrder) {
  TempDir dir;
  const auto a = read_annotations(
      write_file(dir, "test_JSFUSION.json",
                 R"({"video9770.mp4": ["a person is connecting something to system"], "video7020.mp4": ["a woman creating a fondant baby and flower"], "video9771.mp4": ["one", "two"]})"),
      "msrvtt-json", AnnotationOptions().root("/m/videos"));
  ASSERT_EQ(a.samples.size(), 4u);
  EXPECT_EQ(a.samples[0].video, "/m/videos/video9770.mp4");
  EXPECT_EQ(a.samples[1].id, "video7020.mp4");
  EXPECT_EQ(a.samples[3].caption, "two");
  EXPECT_EQ(a.samples[3].row, 3);
}

TEST(Annotations, MsrvttClip4ClipCsv) {
  TempDir dir;
  const auto a = read_annotations(write_file(dir, "MSRVTT_JSFUSION_test.csv",
                                             "key,vid_key,video_id,sentence\n"
                                             "ret0,msr9770,video9770,a person is connecting something to system\n"),
                                  "msrvtt-csv", AnnotationOptions().root("/m"));
  ASSERT_EQ(a.samples.size(), 1u);
  EXPECT_EQ(a.samples[0].video, "/m/video9770.mp4");
  EXPECT_EQ(a.samples[0].caption, "a person is connecting something to system");
}

TEST(Annotations, VindluListAndParagraphs) {
  TempDir dir;
  const auto file = write_file(dir, "list.json",
                               R"([{"video": "video7020.mp4", "caption": "a woman is cooking"},
                                   {"video": "v_abc.mp4", "caption": ["First sentence.", " Second one. "]}])");
  const auto list = read_annotations(file, "vindlu-json", AnnotationOptions().root("/v"));
  ASSERT_EQ(list.samples.size(), 3u);
  EXPECT_EQ(list.samples[2].caption, "Second one.");
  const auto para = read_annotations(file, "paragraph-json", AnnotationOptions().root("/v"));
  ASSERT_EQ(para.samples.size(), 2u);
  EXPECT_EQ(para.samples[1].caption, "First sentence. Second one.");
  EXPECT_EQ(para.samples[1].video, "/v/v_abc.mp4");
  // ActivityNet ships frame folders: root/<video without its extension, whatever its length>.
  fs::create_directories(dir / "frames" / "v_abc");
  const auto anet = read_annotations(file, "anet-json", AnnotationOptions().root((dir / "frames").string()));
  EXPECT_EQ(anet.samples[1].video, (dir / "frames" / "v_abc").string());
}

TEST(Annotations, DidemoAndLsmdcDicts) {
  TempDir dir;
  const auto didemo = read_annotations(
      write_file(dir, "test.json", R"({"12090392@N02_13482799053_87ef417396.mov": ["the dog runs", "it stops"]})"),
      "didemo-json", AnnotationOptions().root("/d/video"));
  ASSERT_EQ(didemo.samples.size(), 1u);
  EXPECT_EQ(didemo.samples[0].caption, "the dog runs it stops");
  EXPECT_EQ(didemo.samples[0].video, "/d/video/12090392@N02_13482799053_87ef417396.mov");
  // Official LSMDC keys are full paths; a relative key gets the root, an absolute one keeps its path.
  const auto lsmdc = read_annotations(
      write_file(dir, "lsmdc_test.json", R"({"/abs/1010_TITANIC_00.41.32.072-00.41.40.196.avi": "SOMEONE smiles.", "rel/x.avi": "y"})"),
      "lsmdc-json", AnnotationOptions().root("/l"));
  ASSERT_EQ(lsmdc.samples.size(), 2u);
  EXPECT_EQ(lsmdc.samples[0].video, "/abs/1010_TITANIC_00.41.32.072-00.41.40.196.avi");
  EXPECT_EQ(lsmdc.samples[1].video, "/l/rel/x.avi");
}

TEST(Annotations, LsmdcTsvUsesTheMovieFolder) {
  TempDir dir;
  const auto a = read_annotations(
      write_file(dir, "LSMDC16_challenge_1000_publictect.csv",
                 "1010_TITANIC_00.41.32.072-00.41.40.196\t00.41.32.072\t00.41.40.196\t00.41.32.072\t00.41.40.196\t"
                 "SOMEONE looks at \"the\" ship.\n"),
      "lsmdc-csv", AnnotationOptions().root("/lsmdc"));
  ASSERT_EQ(a.samples.size(), 1u);
  EXPECT_EQ(a.samples[0].video, "/lsmdc/1010_TITANIC/1010_TITANIC_00.41.32.072-00.41.40.196.avi");
  EXPECT_EQ(a.samples[0].caption, "SOMEONE looks at \"the\" ship.");
}

TEST(Annotations, RecognitionListsAndClassNames) {
  TempDir dir;
  const auto classes = write_file(dir, "class_name.txt", "abseiling\nair drumming\n");
  const auto k400 = read_annotations(
      write_file(dir, "kinetics400_val_list_videos.txt", "-3B32lodo2M_000059_000069.mp4 0\n0wR5jVB-WPk_000417_000427.mp4 1\n"),
      "k400", AnnotationOptions().root("/k").class_names(classes));
  ASSERT_EQ(k400.samples.size(), 2u);
  EXPECT_EQ(k400.samples[0].video, "/k/-3B32lodo2M_000059_000069.mp4");
  EXPECT_EQ(k400.samples[1].label, 1);
  EXPECT_EQ(k400.class_names, (std::vector<std::string>{"abseiling", "air drumming"}));
  const auto ucf = read_annotations(write_file(dir, "ucf.tsv", "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\t1\n"),
                                    "ucf101", AnnotationOptions().root("/u"));
  ASSERT_EQ(ucf.samples.size(), 1u);
  EXPECT_EQ(ucf.samples[0].label, 0);  // 1-based in the file
  EXPECT_EQ(ucf.samples[0].video, "/u/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi");
  // A label beyond the class-name file is a bad row.
  expect_error([&] {
    read_annotations(write_file(dir, "k.txt", "a.mp4 2\n"), "k400", AnnotationOptions().class_names(classes));
  }, {"k.txt' line 1", "below the 2 classes"});
  expect_error([&] { read_annotations(write_file(dir, "h.tsv", "a.avi\t0\n"), "hmdb51"); },
               {"h.tsv' line 1", "integer label >= 1, got '0'"});
}

TEST(Annotations, GenericJsonlAndCsv) {
  TempDir dir;
  const auto jsonl = read_annotations(
      write_file(dir, "mine.jsonl", "{\"video\": \"clips/a.mp4\", \"caption\": \"a cat\"}\n\n"
                                    "{\"video\": \"/abs/b\", \"caption\": \"a dog\", \"id\": \"b\", \"label\": 3}\n"),
      "jsonl", AnnotationOptions().root("/r"));
  ASSERT_EQ(jsonl.samples.size(), 2u);
  EXPECT_EQ(jsonl.samples[0].video, "/r/clips/a.mp4");
  EXPECT_EQ(jsonl.samples[1].video, "/abs/b.mp4");  // no extension: ".mp4" as DecordInit does
  EXPECT_EQ(jsonl.samples[1].label, 3);
  EXPECT_EQ(jsonl.samples[1].row, 3);
  const auto csv = read_annotations(write_file(dir, "mine.csv", "caption,video\n\"hello, world\",x.mkv\n"), "csv");
  ASSERT_EQ(csv.samples.size(), 1u);
  EXPECT_EQ(csv.samples[0].video, "x.mkv");
  EXPECT_EQ(csv.samples[0].caption, "hello, world");
  expect_error([&] { read_annotations(write_file(dir, "nohead.csv", "path,text\na,b\n"), "csv"); },
               {"nohead.csv' line 1", "columns 'video' and 'caption', got 'path,text'"});
}

TEST(Annotations, MalformedRowsNameFileAndLineOrAreSkipped) {
  TempDir dir;
  const auto file = write_file(dir, "bad.csv",
                               std::string(kWebvid2m) +
                                   "123,too few columns\n"
                                   ",empty id,1,001_050,PT1S,u\n"
                                   "77,fine,1,001_050,PT1S,u\n"
                                   "78,\"never closed,1,001_050,PT1S,u\n");
  expect_error([&] { read_annotations(file, "webvid"); },
               {"webvid annotations '", "bad.csv' line 4", "expected 6 columns (videoid,name,page_idx,page_dir,duration,contentUrl), got 2"});
  const auto a = read_annotations(file, "webvid", AnnotationOptions().skip_bad_rows(true));
  ASSERT_EQ(a.samples.size(), 3u);
  EXPECT_EQ(a.samples[2].id, "77");
  ASSERT_EQ(a.bad_rows.size(), 3u);
  EXPECT_EQ(a.bad_rows[0].row, 4);
  EXPECT_NE(a.bad_rows[1].reason.find("line 5: empty videoid"), std::string::npos) << a.bad_rows[1].reason;
  EXPECT_NE(a.bad_rows[2].reason.find("line 7: a quoted field opened on this line never closes"), std::string::npos);
}

TEST(Annotations, JsonValuesOfTheWrongTypeAreBadRows) {
  TempDir dir;
  const auto file = write_file(dir, "t.json", R"({"a.mp4": ["ok"], "b.mp4": 5, "c.mp4": ["x", 7], "d.mp4": []})");
  expect_error([&] { read_annotations(file, "msrvtt-json"); },
               {"msrvtt-json annotations '", "t.json' entry 2 ('b.mp4')", "got a number"});
  const auto a = read_annotations(file, "msrvtt-json", AnnotationOptions().skip_bad_rows(true));
  EXPECT_EQ(a.samples.size(), 1u);
  EXPECT_EQ(a.bad_rows.size(), 3u);
  const auto list = write_file(dir, "l.json", R"([{"video": 3, "caption": "x"}, "str", {"video": "a.mp4", "caption": "y"}])");
  const auto b = read_annotations(list, "vindlu-json", AnnotationOptions().skip_bad_rows(true));
  EXPECT_EQ(b.samples.size(), 1u);
  EXPECT_EQ(b.bad_rows.size(), 2u);
  // The wrong top-level shape or broken JSON is an error for the whole file, even when skipping rows.
  expect_error([&] { read_annotations(list, "msrvtt-json", AnnotationOptions().skip_bad_rows(true)); },
               {"expected an object", "got a JSON array"});
  const auto broken = write_file(dir, "broken.json", "{\"a.mp4\": [\"x\"");
  expect_error([&] { read_annotations(broken, "msrvtt-json"); }, {"broken.json' is not valid JSON"});
  expect_error([&] { read_annotations((dir / "absent.json").string(), "msrvtt-json"); }, {"cannot open", "absent.json"});
}

TEST(Annotations, RegistryListsFormatsAndAcceptsNewOnes) {
  const auto names = annotation_formats();
  for (const char* required : {"webvid", "msrvtt-json", "webvid10m", "msrvtt-csv", "vindlu-json", "paragraph-json",
                               "anet-json", "didemo-json", "lsmdc-json", "lsmdc-csv", "k400", "ucf101", "hmdb51",
                               "jsonl", "csv"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
  expect_error([] { make_annotation_reader("webvid-2m"); },
               {"unknown annotation format 'webvid-2m'", "known formats:", "msrvtt-json", "webvid"});
  struct Fixed : AnnotationReader {
    Annotations read(const std::string& path, const AnnotationOptions&) const override {
      Annotations a;
      a.samples.push_back({path + ".mp4", "fixed", -1, "f", 1});
      return a;
    }
  };
  register_annotation_format("fixed-test", [] { return std::make_unique<Fixed>(); });
  const auto a = read_annotations("x", "fixed-test");
  EXPECT_EQ(a.format, "fixed-test");
  EXPECT_EQ(a.samples.at(0).caption, "fixed");
}

TEST(CsvReaderTest, QuotesSpanningLinesAndBom) {
  TempDir dir;
  CsvReader reader(write_file(dir, "x.csv", "\xEF\xBB\xBF" "a,\"multi\nline\",c\n\n\"x\"\"y\",,\n"));
  CsvRow row;
  ASSERT_TRUE(reader.next(row));
  EXPECT_EQ(row.fields, (std::vector<std::string>{"a", "multi\nline", "c"}));
  EXPECT_EQ(row.line, 1);
  ASSERT_TRUE(reader.next(row));
  EXPECT_EQ(row.line, 4);
  EXPECT_EQ(row.fields, (std::vector<std::string>{"x\"y", "", ""}));
  EXPECT_FALSE(reader.next(row));
}
