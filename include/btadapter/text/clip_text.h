#pragma once
/// OpenAI CLIP's caption cleaning and pre-tokenisation (`clip/simple_tokenizer.py`), without ftfy.
///
/// The reference runs, per caption:
///   1. `ftfy.fix_text` (NOT reproduced: there is no C++ ftfy; see below),
///   2. `html.unescape` twice, then `str.strip()`,
///   3. `regex.sub(r'\s+', ' ', text).strip()` (`\s` = Unicode White_Space),
///   4. `str.lower()`,
///   5. `regex.findall(PAT, text)` with IGNORECASE, where
///      PAT = `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`.
/// clip_clean() is steps 2-4, clip_pre_tokenize() is step 5; both agree with the Python reference on
/// every input (shared/fixtures/tokenizer/README.md states the exact pipeline).
///
/// What skipping ftfy changes (the ids then differ from OpenAI's pipeline with ftfy, and agree with
/// BT-Adapter's and OpenAI's code run without it): curly quotes stay curly (`it’s` is not split as
/// `it's`), ligatures (`ﬁ`) and full-width letters are kept, decomposed accents are not NFC-composed,
/// control characters such as U+001F are kept, mojibake is not repaired, and entities escaped three
/// or more times stay escaped once.
///
/// Unicode version: categories come from utf8proc (Unicode 15). A character assigned only in a later
/// version is "other" here, while a newer `regex` module may call it a letter or number (e.g. U+088F,
/// Unicode 16); emoji are "other" either way. Every character of Unicode 15 is classified as the
/// `regex` module classifies it.
///
/// Thread safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

namespace btadapter::text {

/// Steps 2-4 above: `whitespace_clean(basic_clean(text)).lower()` with ftfy as the identity.
std::u32string clip_clean(std::u32string_view text);

/// How PAT's branches see one code point of lowercased text.
enum class ClipCharClass {
  kLetter,     ///< general category L*: joins a `[\p{L}]+` run
  kNumber,     ///< general category N*: a pre-token on its own
  kSpace,      ///< White_Space: separates pre-tokens
  kOther,      ///< everything else: joins a `[^\s\p{L}\p{N}]+` run
  kUnmatched,  ///< matched by no branch, so dropped: under IGNORECASE the negated class also rejects
               ///< characters whose case variant is a letter (only U+0345, which uppercases to U+0399)
};

/// The class of `c` (see ClipCharClass).
ClipCharClass clip_char_class(char32_t c);

/// Step 5: the pre-tokens of cleaned text, left to right, as views into `cleaned`. The special-token
/// and contraction branches match case-insensitively (`'ſ` matches `'s`, U+017F folding to s).
std::vector<std::u32string_view> clip_pre_tokenize(std::u32string_view cleaned);

}  // namespace btadapter::text
