#include <gtest/gtest.h>

#include <fstream>

#include "btadapter/eval/sha256.h"
#include "support/test_support.h"

using namespace btadapter::eval;

// FIPS 180-4 / NIST example vectors.
TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
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
  try {
    sha256_file((dir / "missing.bin").string());
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("missing.bin' (cannot open)"), std::string::npos);
  }
  Sha256 h;
  h.digest();
  EXPECT_THROW(h.update("more"), c10::Error);
}
