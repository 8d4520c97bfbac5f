#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "btadapter/io/atomic_file.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
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

}  // namespace
