#include <gtest/gtest.h>

#include <fstream>

#include "btadapter/io/sha256.h"
#include "support/test_support.h"

using namespace btadapter::io;
using btadapter::testing::expect_error;

namespace {

std::string hex(Sha256::Kernel kernel, const std::string& bytes) {
  Sha256 h(kernel);
  h.update(bytes);
  return h.hex_digest();
}

// Deterministic pseudo-random bytes (every byte value occurs).
std::string noise(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  for (char& c : out) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return out;
}

}  // namespace

// FIPS 180-4 / NIST example vectors, through the CPU's SHA extensions (where it has them) and the
// portable code.
TEST(Sha256, NistVectors) {
  for (auto kernel : {Sha256::Kernel::kAuto, Sha256::Kernel::kPortable}) {
    EXPECT_EQ(hex(kernel, ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(kernel, "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(kernel, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex(kernel, "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    EXPECT_EQ(hex(kernel, std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

TEST(Sha256, BothKernelsAgreeOnEveryLengthUpToFourBlocks) {
  for (size_t len = 0; len <= 256; ++len) {
    const std::string bytes = noise(len, static_cast<uint32_t>(len));
    ASSERT_EQ(hex(Sha256::Kernel::kAuto, bytes), hex(Sha256::Kernel::kPortable, bytes)) << "length " << len;
  }
}

// coreutils' sha256sum is an implementation of its own: the file path (many whole blocks read straight
// from the caller's buffer, then a tail) must agree with it.
TEST(Sha256, FileAgreesWithCoreutils) {
  btadapter::testing::TempDir dir;
  const std::string path = (dir / "noise.bin").string();
  std::ofstream(path, std::ios::binary) << noise(5 * 1024 * 1024 + 41, 7);
  const auto run = btadapter::testing::run_command("sha256sum '" + path + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(sha256_file(path), run.output.substr(0, 64));
}

TEST(Sha256, IncrementalEqualsOneShotAtEveryBlockBoundary) {
  std::string data;
  for (int i = 0; i < 200; ++i) data += static_cast<char>(i * 37 + 11);
  for (size_t len : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 200u}) {
    const std::string part = data.substr(0, len);
    for (size_t cut = 0; cut <= len; cut += 13) {
      Sha256 h;
      h.update(part.substr(0, cut));
      h.update(part.substr(cut));
      EXPECT_EQ(h.hex_digest(), sha256_hex(part)) << "len " << len << " cut " << cut;
    }
  }
}

TEST(Sha256, FileAndErrors) {
  btadapter::testing::TempDir dir;
  const std::string content(3 * 1024 * 1024 + 17, 'x');
  std::ofstream(dir / "model.bin", std::ios::binary) << content;
  EXPECT_EQ(sha256_file((dir / "model.bin").string()), sha256_hex(content));
  expect_error([&] { sha256_file((dir / "missing.bin").string()); }, "missing.bin' (cannot open)");
  Sha256 h;
  h.digest();
  expect_error([&] { h.update("more"); }, "this Sha256 is already finished");
}
