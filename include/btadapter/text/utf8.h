#pragma once
/// UTF-8 <-> code points, with the error handling of Python's `bytes.decode("utf-8", "replace")`:
/// every maximal ill-formed subsequence (Unicode 15, section 3.9, "maximal subpart") becomes one
/// U+FFFD, so bad input never throws and decodes exactly as the Python reference would.
///
/// Thread safety: pure functions.

#include <string>
#include <string_view>

namespace btadapter::text {

/// U+FFFD REPLACEMENT CHARACTER.
inline constexpr char32_t kReplacementChar = 0xFFFD;

/// Decodes `bytes`; ill-formed sequences, surrogates and overlong forms become U+FFFD.
std::u32string utf8_decode(std::string_view bytes);

/// Appends the UTF-8 encoding of `cp` to `out`; surrogates and values above U+10FFFF become U+FFFD.
void utf8_append(char32_t cp, std::string& out);

/// Encodes code points as UTF-8 (same rules as utf8_append).
std::string utf8_encode(std::u32string_view text);

/// `bytes` with every ill-formed subsequence replaced by U+FFFD: always valid UTF-8.
std::string utf8_sanitize(std::string_view bytes);

}  // namespace btadapter::text
