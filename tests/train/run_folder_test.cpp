// A restarted run's output folder: stale temporary files go from the folder and checkpoints/, the log
// is cut to the starting step, and the note says what happened.
#include "btadapter/train/run_folder.h"

#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using btadapter::testing::TempDir;
using namespace btadapter::train;

TEST(RunFolder, RepairCleansBothFoldersAndCutsTheLog) {
  TempDir dir;
  fs::create_directories(dir / "checkpoints");
  std::ofstream(dir / "model.safetensors.tmp.999999999.safetensors") << "partial";
  std::ofstream(dir / "checkpoints" / "checkpoint-00000010.pt.tmp.999999999.pt") << "partial";
  std::ofstream(dir / "checkpoints" / "checkpoint-00000008.pt") << "kept";
  std::ofstream(dir / "train_log.jsonl") << "{\"step\":8}\n{\"step\":9}\n{\"step\":10}\n";

  const RunFolderRepair repair = repair_run_folder(dir.path().string(), 8);
  EXPECT_EQ(repair.removed_temp_files.size(), 2u);
  EXPECT_FALSE(fs::exists(dir / "checkpoints" / "checkpoint-00000010.pt.tmp.999999999.pt"));
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "checkpoint-00000008.pt"));
  EXPECT_EQ(repair.log.kept, 1);
  EXPECT_EQ(repair.log.dropped, 2);
  const std::string note = repair_note(repair);
  EXPECT_NE(note.find("removed 2 temporary file(s) of an interrupted write"), std::string::npos) << note;
  EXPECT_NE(note.find("train_log.jsonl: dropped 2 record(s) after the starting step and 0 torn line(s)"),
            std::string::npos)
      << note;

  const RunFolderRepair again = repair_run_folder(dir.path().string(), 8);  // nothing left to do
  EXPECT_TRUE(again.removed_temp_files.empty());
  EXPECT_EQ(repair_note(again), "");
  EXPECT_EQ(repair_note(repair_run_folder((dir / "fresh").string(), 0)), "");  // a new run's folder
}

}  // namespace
