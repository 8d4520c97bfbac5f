// UTF-8 decoding with Python's "replace" error handling (one U+FFFD per maximal subpart).
#include <gtest/gtest.h>

#include "btadapter/text/utf8.h"

using namespace btadapter::text;

TEST(Utf8, DecodesValidText) {
  EXPECT_EQ(utf8_decode("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"), std::u32string(U"a\u00e9\u65e5\U0001F600"));
  EXPECT_EQ(utf8_encode(U"a\u00e9\u65e5\U0001F600"), "a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80");
}

TEST(Utf8, ReplacesEachMaximalSubpartLikePython) {
  // Expected values: bytes.decode("utf-8", "replace") in CPython.
  EXPECT_EQ(utf8_decode("caf\xc3"), std::u32string(U"caf\ufffd"));
  EXPECT_EQ(utf8_decode("\xff\xfeok"), std::u32string(U"\ufffd\ufffdok"));
  EXPECT_EQ(utf8_decode("a\xed\xa0\x80" "b"), std::u32string(U"a\ufffd\ufffd\ufffdb"));  // surrogate
  EXPECT_EQ(utf8_decode("\xf0\x9f\x98"), std::u32string(U"\ufffd"));                     // truncated emoji
  EXPECT_EQ(utf8_decode("\xc0\xaf"), std::u32string(U"\ufffd\ufffd"));                   // overlong
  EXPECT_EQ(utf8_decode("\xf4\x90\x80\x80"), std::u32string(U"\ufffd\ufffd\ufffd\ufffd"));  // > U+10FFFF
  EXPECT_EQ(utf8_decode("\xe2\x82" "A"), std::u32string(U"\ufffdA"));
}

TEST(Utf8, SanitizeKeepsValidBytesAndReplacesTheRest) {
  EXPECT_EQ(utf8_sanitize("ok \xef\xbf\xbd \xf0\x90\x80"), "ok \xef\xbf\xbd \xef\xbf\xbd");
  EXPECT_EQ(utf8_sanitize("\xe2\x82\xac"), "\xe2\x82\xac");
  EXPECT_EQ(utf8_encode(U"\xd800"), "\xef\xbf\xbd");
}
