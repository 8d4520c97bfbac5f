// bt_train_tokenizer end to end: captions taken from a WebVid CSV, a vocabulary that encodes them back.
#include <gtest/gtest.h>

#include <fstream>

#include "btadapter/text/sentencepiece_tokenizer.h"
#include "support/test_support.h"

namespace {

using btadapter::testing::run_command;
using btadapter::testing::TempDir;
using btadapter::testing::tool_path;

TEST(TrainTokenizerTool, TrainsOnTheCaptionsOfAnAnnotationFile) {
  TempDir dir;
  const auto csv = (dir / "train.csv").string();
  {
    std::ofstream out(csv);
    out << "videoid,name,page_idx,page_dir,duration,contentUrl\n";
    const char* colours[] = {"red", "green", "blue", "yellow"};
    const char* moves[] = {"left to right", "right to left", "top to bottom", "bottom to top"};
    for (int i = 0; i < 64; ++i) {
      out << i << ",\"a " << colours[i % 4] << " circle moves from " << moves[(i / 4) % 4] << "\",1,p,PT00H00M02S,x\n";
    }
  }
  const auto model = (dir / "spm.model").string();
  const auto r = run_command(tool_path("bt_train_tokenizer").string() + " --annotations " + csv +
                             " --format webvid --vocab-size 60 --out " + model);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  btadapter::SentencePieceTokenizer tokenizer(model);
  EXPECT_LE(tokenizer.vocab_size(), 60);
  const auto ids = tokenizer.encode("a blue circle moves from right to left");
  EXPECT_EQ(tokenizer.decode(ids), "a blue circle moves from right to left");
  std::ifstream captions(model + ".captions.txt");
  std::string first;
  std::getline(captions, first);
  EXPECT_EQ(first, "a red circle moves from left to right");
}

TEST(TrainTokenizerTool, NamesWhatIsMissing) {
  TempDir dir;
  const auto out = (dir / "spm.model").string();
  auto r = run_command(tool_path("bt_train_tokenizer").string() + " --out " + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("expected --captions or --annotations"), std::string::npos) << r.output;
  r = run_command(tool_path("bt_train_tokenizer").string() + " --annotations " + (dir / "none.csv").string() +
                  " --format webvid --out " + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("none.csv"), std::string::npos) << r.output;
}

}  // namespace
