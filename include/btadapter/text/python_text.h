#pragma once
/// The pieces of Python's string library that OpenAI's CLIP tokenizer applies to every caption,
/// reproduced code point for code point (CPython 3.11 semantics), so that the C++ cleaning sees exactly
/// the text the reference sees: `str.isspace`/`str.strip`, the `regex` module's `\s`, `str.lower` and
/// `html.unescape`.
///
/// Character properties come from utf8proc (Unicode 15); Python 3.11 uses Unicode 14, which agrees on
/// every character assigned in Unicode 14.
///
/// Thread safety: pure functions.

#include <string>
#include <string_view>

namespace btadapter::text {

/// Python's `str.isspace()` for one character: U+0009-000D, U+001C-001F, U+0020, U+0085, U+00A0,
/// U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000.
bool python_isspace(char32_t c);

/// Unicode White_Space (the `regex` module's `\s`): python_isspace without U+001C-001F.
bool unicode_white_space(char32_t c);

/// Python's `str.strip()` without arguments: drops python_isspace characters at both ends.
std::u32string_view python_strip(std::u32string_view text);

/// Python's `str.lower()`: full lowercase mapping, so U+0130 becomes "i" + U+0307, and U+03A3 becomes
/// final sigma U+03C2 where Unicode's Final_Sigma condition holds over the whole string.
std::u32string python_lower(std::u32string_view text);

/// Python's `html.unescape()`: numeric references (decimal and hex, `;` optional, with the HTML5
/// remapping of 0x80-0x9F, U+FFFD for 0, surrogates and out-of-range values, removal of
/// noncharacters and most controls) and the 2,231 HTML5 named references, including the legacy names
/// valid without `;` and their longest-prefix matching (`&notit;` -> `¬it;`).
///
/// One difference: Python raises ValueError for a decimal reference of more than 4,300 digits (its
/// int() limit); here it becomes U+FFFD like any other out-of-range value.
std::u32string html_unescape(std::u32string_view text);

}  // namespace btadapter::text
