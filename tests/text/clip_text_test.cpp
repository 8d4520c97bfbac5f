// CLIP cleaning and pre-tokenisation against hand-computed regex.findall results.
#include <gtest/gtest.h>

#include "btadapter/text/clip_text.h"
#include "btadapter/text/utf8.h"

using namespace btadapter::text;

namespace {

std::vector<std::string> pieces(const std::string& text) {
  const std::u32string cleaned = clip_clean(utf8_decode(text));
  std::vector<std::string> out;
  for (auto piece : clip_pre_tokenize(cleaned)) out.push_back(utf8_encode(piece));
  return out;
}

using Pieces = std::vector<std::string>;

}  // namespace

TEST(ClipText, CleanUnescapesTwiceCollapsesWhitespaceAndLowercases) {
  EXPECT_EQ(utf8_encode(clip_clean(utf8_decode("  Fish &amp;amp;\t\n CHIPS\u3000&nbsp;x  "))), "fish & chips x");
  EXPECT_EQ(utf8_encode(clip_clean(utf8_decode("\x1f a\x1f b \x1f"))), "a\x1f b");
  EXPECT_EQ(utf8_encode(clip_clean(utf8_decode("zero\u200bwidth"))), "zero\u200bwidth");
}

TEST(ClipText, PreTokensFollowThePattern) {
  EXPECT_EQ(pieces("Don't SHOUT, it's 2023!!"),
            (Pieces{"don", "'t", "shout", ",", "it", "'s", "2", "0", "2", "3", "!!"}));
  EXPECT_EQ(pieces("rock 'n' roll ...'s"), (Pieces{"rock", "'", "n", "'", "roll", "...'", "s"}));
  EXPECT_EQ(pieces("<|startoftext|>hi<|endoftext|>"), (Pieces{"<|startoftext|>", "hi", "<|endoftext|>"}));
  EXPECT_EQ(pieces("!<|endoftext|>"), (Pieces{"!<|", "endoftext", "|>"}));
  EXPECT_EQ(pieces("caf\u00e9 \u65e5\u672c\u8a9e x\u00b2 \u00bd"), (Pieces{"caf\u00e9", "\u65e5\u672c\u8a9e", "x", "\u00b2", "\u00bd"}));
  EXPECT_EQ(pieces("\U0001F44D\U0001F3FD skin"), (Pieces{"\U0001F44D\U0001F3FD", "skin"}));
}

TEST(ClipText, IgnoreCaseQuirks) {
  // U+0345 matches no branch and vanishes, splitting the word.
  EXPECT_EQ(pieces("a\u0345b"), (Pieces{"a", "b"}));
  // Long s folds to s in the contraction and special-token literals.
  EXPECT_EQ(pieces("it'\u017f <|\u017ftartoftext|>"), (Pieces{"it", "'\u017f", "<|\u017ftartoftext|>"}));
  // Dotted capital I lowercases to i + U+0307 (a mark: it ends the letter run).
  EXPECT_EQ(pieces("\u0130stanbul"), (Pieces{"i", "\u0307", "stanbul"}));
}

TEST(ClipText, OnlyU0345IsUnmatched) {
  std::vector<char32_t> unmatched;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    if (clip_char_class(c) == ClipCharClass::kUnmatched) unmatched.push_back(c);
  }
  EXPECT_EQ(unmatched, std::vector<char32_t>{0x345});
}
