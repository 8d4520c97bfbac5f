// Python string semantics used by CLIP's cleaning. Expected values were produced by CPython 3.11
// (html.unescape, str.lower, str.isspace, regex's \s) and are written out here by hand.
#include <gtest/gtest.h>

#include "btadapter/text/python_text.h"
#include "btadapter/text/utf8.h"

using namespace btadapter::text;

namespace {

std::string unescape(const std::string& text) { return utf8_encode(html_unescape(utf8_decode(text))); }
std::string lower(const std::string& text) { return utf8_encode(python_lower(utf8_decode(text))); }

}  // namespace

TEST(HtmlUnescape, NamedReferences) {
  EXPECT_EQ(unescape("&amp; &lt;b&gt; &quot;hi&quot;"), "& <b> \"hi\"");
  EXPECT_EQ(unescape("&copy; &euro;5 a&nbsp;b"), "\u00a9 \u20ac5 a\u00a0b");
  EXPECT_EQ(unescape("&NotNestedGreaterGreater;"), "\u2aa2\u0338");  // two code points
  EXPECT_EQ(unescape("&Amp; &unknown; &;"), "&Amp; &unknown; &;");     // case matters; unknown kept
}

TEST(HtmlUnescape, LegacyNamesWithoutSemicolonAndLongestPrefix) {
  EXPECT_EQ(unescape("&amp &AMP &copy&copy; &lt&gt"), "& & \u00a9\u00a9 <>");
  EXPECT_EQ(unescape("&notit;"), "\u00acit;");
  EXPECT_EQ(unescape("&ampxyz"), "&xyz");
  EXPECT_EQ(unescape("&nbspx"), "\u00a0x");
  EXPECT_EQ(unescape("&Eacuteacute;"), "\u00c9acute;");
  EXPECT_EQ(unescape("&ampé"), "&é");
  EXPECT_EQ(unescape("&é;"), "&é;");
  // More than 32 name characters: the reference is never recognised.
  EXPECT_EQ(unescape("&abcdefghijklmnopqrstuvwxyzabcdefghij;"), "&abcdefghijklmnopqrstuvwxyzabcdefghij;");
}

TEST(HtmlUnescape, NumericReferences) {
  EXPECT_EQ(unescape("&#X41;&#65 &#x1F600; &#128512;"), "AA \U0001F600 \U0001F600");
  EXPECT_EQ(unescape("&#128;&#13;&#1;"), "\u20ac\r");  // windows-1252 remap, CR kept, U+0001 removed
  EXPECT_EQ(unescape("&#0;|&#xD800;|&#x110000;|&#99999999999999999999;"), "\ufffd|\ufffd|\ufffd|\ufffd");
  EXPECT_EQ(unescape("&#xFFFE;&#xFDD0;&#x7F;&#11;"), "");  // noncharacters and controls dropped
  EXPECT_EQ(unescape("&#; &#x; & amp;"), "&#; &#x; & amp;");
}

TEST(HtmlUnescape, AppliedTwiceUnescapesTwice) {
  EXPECT_EQ(unescape(unescape("fish &amp;amp; chips")), "fish & chips");
  EXPECT_EQ(unescape(unescape("&amp;amp;amp;")), "&amp;");
}

TEST(PythonText, SpaceSets) {
  for (char32_t c : {0x1C, 0x1D, 0x1E, 0x1F}) {
    EXPECT_TRUE(python_isspace(c)) << c;
    EXPECT_FALSE(unicode_white_space(c)) << c;
  }
  for (char32_t c : {0x09, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}) {
    EXPECT_TRUE(python_isspace(c)) << c;
    EXPECT_TRUE(unicode_white_space(c)) << c;
  }
  for (char32_t c : {0x200B, 0x180E, 0xFEFF, 0x61}) {
    EXPECT_FALSE(python_isspace(c)) << c;
    EXPECT_FALSE(unicode_white_space(c)) << c;
  }
  EXPECT_EQ(utf8_encode(python_strip(utf8_decode("\x1f \u3000 a b\u00a0\n"))), "a b");
}

TEST(PythonText, LowerFullMappingAndFinalSigma) {
  EXPECT_EQ(lower("A photo of a CAT."), "a photo of a cat.");
  EXPECT_EQ(lower("\u0130stanbul"), "i\u0307stanbul");
  EXPECT_EQ(lower("\u212a"), "k");  // Kelvin sign
  EXPECT_EQ(lower("\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3"), "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c2");
  // Σ alone, after a space, before a period, after a combining mark: Final_Sigma looks through
  // case-ignorable characters in both directions.
  EXPECT_EQ(lower("\u03a3 a\u03a3. a\u03a3b a\u0301\u03a3 a\u03a3\u0301"), "\u03c3 a\u03c2. a\u03c3b a\u0301\u03c2 a\u03c2\u0301");
  EXPECT_EQ(lower("\u24b6\u03a3 \u2160\u03a3"), "\u24d0\u03c2 \u2170\u03c2");  // circled letter, Roman numeral are cased
}
