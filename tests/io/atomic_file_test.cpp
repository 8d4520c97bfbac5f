#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "btadapter/io/atomic_file.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using btadapter::io::is_atomic_temp_name;
using btadapter::io::remove_stale_temp_files;
using btadapter::io::write_file_atomically;
using btadapter::io::write_path_atomically;
using btadapter::testing::expect_error;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t entries(const fs::path& dir) { return std::distance(fs::directory_iterator(dir), fs::directory_iterator()); }

TEST(AtomicFile, WritesReplacesAndCreatesFolders) {
  btadapter::testing::TempDir dir;
  const auto path = dir / "a/b/out.txt";
  write_file_atomically(path.string(), std::string("first"));
  EXPECT_EQ(read_all(path), "first");
  write_file_atomically(path.string(), [](std::ostream& out) { out << "second"; });
  EXPECT_EQ(read_all(path), "second");
  EXPECT_EQ(entries(path.parent_path()), 1u);
}

TEST(AtomicFile, FailedWriteKeepsTheOldFileAndNoTemporary) {
  btadapter::testing::TempDir dir;
  const auto path = dir / "model.bin";
  write_file_atomically(path.string(), std::string("complete"));
  expect_error(
      [&] {
        write_file_atomically(path.string(), [](std::ostream& out) {
          out << "half of it";
          throw std::runtime_error("killed mid-write");
        });
      },
      "killed mid-write");
  EXPECT_EQ(read_all(path), "complete");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(AtomicFile, PathWritersSeeTheExtensionAndMustCreateTheFile) {
  btadapter::testing::TempDir dir;
  const auto path = dir / "clip.mp4";
  std::string seen;
  write_path_atomically(path.string(), [&](const std::string& temp) {
    seen = temp;
    std::ofstream(temp) << "video";
  });
  EXPECT_EQ(fs::path(seen).extension(), ".mp4");
  EXPECT_EQ(fs::path(seen).parent_path(), dir.path());
  EXPECT_EQ(read_all(path), "video");
  const auto missing = dir / "none.png";
  expect_error([&] { write_path_atomically(missing.string(), [](const std::string&) {}); },
               "writing '" + missing.string() + "' produced no file");
  EXPECT_FALSE(fs::exists(missing));
}

TEST(AtomicFile, UnwritableTargetNamesThePath) {
  btadapter::testing::TempDir dir;
  const auto file = dir / "file";
  std::ofstream(file) << "x";
  const auto path = (file / "out.json").string();
  expect_error([&] { write_file_atomically(path, std::string("{}")); }, "cannot write '" + path + "'");
}

// kill -9 mid-write leaves "<file>.tmp.<pid>[.ext]"; a restarted run removes exactly those, and only
// when their writer is gone (pid 999999999 exceeds any pid_max; pid 1 always runs).
TEST(AtomicFile, StaleTemporaryFilesOfKilledWritersAreRemoved) {
  btadapter::testing::TempDir dir;
  std::vector<std::string> made;
  for (const char* name : {"checkpoint-00000004.pt", "config.yaml", "log"}) {
    write_path_atomically((dir / name).string(), [&](const std::string& temp) {
      made.push_back(fs::path(temp).filename().string());
      std::ofstream(temp) << "x";
    });
  }
  const std::string own_pid = ".tmp." + std::to_string(::getpid());
  for (const auto& name : made) {
    EXPECT_TRUE(is_atomic_temp_name(name)) << name;  // the writer's names are what the cleaner looks for
    std::string dead = name;
    dead.replace(dead.find(own_pid), own_pid.size(), ".tmp.999999999");
    std::ofstream(dir / dead) << "partial";
  }
  const std::vector<std::string> kept = {"checkpoint-00000008.pt.tmp.1.pt",  // pid 1 is alive
                                         "notes.tmp.txt", "a.tmp.12.txt", ".tmp.12", "a.tmp.", "a.tmp.x1"};
  for (const auto& name : kept) std::ofstream(dir / name) << "keep";
  fs::create_directory(dir / "sub");
  std::ofstream(dir / "sub" / "b.pt.tmp.999999999.pt") << "not this folder";

  auto removed = remove_stale_temp_files(dir.path().string());
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{(dir / "checkpoint-00000004.pt.tmp.999999999.pt").string(),
                                               (dir / "config.yaml.tmp.999999999.yaml").string(),
                                               (dir / "log.tmp.999999999").string()}));
  for (const auto& name : kept) EXPECT_TRUE(fs::exists(dir / name)) << name;
  EXPECT_TRUE(fs::exists(dir / "sub" / "b.pt.tmp.999999999.pt"));
  EXPECT_EQ(read_all(dir / "config.yaml"), "x");
  EXPECT_TRUE(remove_stale_temp_files((dir / "missing").string()).empty());
}

}  // namespace
