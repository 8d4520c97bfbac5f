#include "btadapter/text/clip_text.h"

#include "btadapter/text/python_text.h"

#include <utf8proc.h>

#include <array>

namespace btadapter::text {
namespace {

bool is_letter_or_number(utf8proc_int32_t cp) {
  const auto category = utf8proc_category(cp);
  return (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
         (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO);
}

ClipCharClass classify(char32_t c) {
  const auto cp = static_cast<utf8proc_int32_t>(c);
  const auto category = utf8proc_category(cp);
  if (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) return ClipCharClass::kLetter;
  if (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO) return ClipCharClass::kNumber;
  if (unicode_white_space(c)) return ClipCharClass::kSpace;
  // `[\p{L}]` compiles to a plain property test, but the negated set is matched against every simple
  // case variant of the character (mrab-regex matches_SET_IGN), so a mark whose uppercase is a letter
  // fits neither branch.
  for (auto variant : {utf8proc_toupper(cp), utf8proc_tolower(cp), utf8proc_totitle(cp)}) {
    if (variant != cp && is_letter_or_number(variant)) return ClipCharClass::kUnmatched;
  }
  return ClipCharClass::kOther;
}

const std::array<ClipCharClass, 128>& ascii_classes() {
  static const std::array<ClipCharClass, 128> table = [] {
    std::array<ClipCharClass, 128> t{};
    for (char32_t c = 0; c < 128; ++c) t[c] = classify(c);
    return t;
  }();
  return table;
}

// Case-insensitive equality with an ASCII character of PAT. In simple case folding the only non-ASCII
// code points equivalent to the letters of PAT's literals is U+017F (long s ~ s); U+212A (Kelvin ~ k)
// cannot appear after lowercasing and k is not in PAT.
bool same_ignoring_case(char32_t c, char pattern) {
  if (c == static_cast<char32_t>(pattern)) return true;
  if (pattern >= 'a' && pattern <= 'z' && c == static_cast<char32_t>(pattern - 32)) return true;
  return pattern == 's' && c == 0x17F;
}

// Length of `literal` if it matches case-insensitively at text[pos], else 0.
size_t match_literal(std::u32string_view text, size_t pos, std::string_view literal) {
  if (text.size() - pos < literal.size()) return 0;
  for (size_t i = 0; i < literal.size(); ++i) {
    if (!same_ignoring_case(text[pos + i], literal[i])) return 0;
  }
  return literal.size();
}

// PAT's literal branches, in order, at text[pos]; 0 when none matches.
size_t match_special_or_contraction(std::u32string_view text, size_t pos) {
  static constexpr std::string_view kSpecials[] = {"<|startoftext|>", "<|endoftext|>"};
  static constexpr std::string_view kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  if (text[pos] == '<') {
    for (auto literal : kSpecials) {
      if (size_t n = match_literal(text, pos, literal)) return n;
    }
  } else if (text[pos] == '\'') {
    for (auto literal : kContractions) {
      if (size_t n = match_literal(text, pos, literal)) return n;
    }
  }
  return 0;
}

}  // namespace

ClipCharClass clip_char_class(char32_t c) { return c < 128 ? ascii_classes()[c] : classify(c); }

std::u32string clip_clean(std::u32string_view text) {
  const std::u32string unescaped = html_unescape(html_unescape(text));
  const std::u32string_view stripped = python_strip(unescaped);
  std::u32string collapsed;
  collapsed.reserve(stripped.size());
  bool in_space = false;
  for (char32_t c : stripped) {
    const bool space = unicode_white_space(c);
    if (!space) collapsed.push_back(c);
    else if (!in_space) collapsed.push_back(' ');
    in_space = space;
  }
  return python_lower(python_strip(collapsed));
}

std::vector<std::u32string_view> clip_pre_tokenize(std::u32string_view cleaned) {
  std::vector<std::u32string_view> pieces;
  size_t pos = 0;
  const size_t size = cleaned.size();
  const auto run_end = [&](size_t start, ClipCharClass kind) {
    size_t end = start + 1;
    while (end < size && clip_char_class(cleaned[end]) == kind) ++end;
    return end;
  };
  while (pos < size) {
    if (size_t n = match_special_or_contraction(cleaned, pos)) {
      pieces.push_back(cleaned.substr(pos, n));
      pos += n;
      continue;
    }
    const ClipCharClass kind = clip_char_class(cleaned[pos]);
    size_t end = pos + 1;
    if (kind == ClipCharClass::kLetter || kind == ClipCharClass::kOther) end = run_end(pos, kind);
    if (kind != ClipCharClass::kSpace && kind != ClipCharClass::kUnmatched) {
      pieces.push_back(cleaned.substr(pos, end - pos));
    }
    pos = end;
  }
  return pieces;
}

}  // namespace btadapter::text
