#include "btadapter/text/python_text.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace btadapter::text {
namespace {

struct NamedReference {
  const char* name;   // without the trailing ';'
  const char* value;  // UTF-8
  bool bare;          // also valid without ';' (legacy names such as "amp", "copy", "not")
};

constexpr NamedReference kNamedReferences[] = {
#include "html_entities.inc"
};

// The named reference `name` (ASCII, without ';'), or nullptr.
const NamedReference* find_named(std::string_view name) {
  auto less = [](const NamedReference& e, std::string_view key) { return std::string_view(e.name) < key; };
  auto it = std::lower_bound(std::begin(kNamedReferences), std::end(kNamedReferences), name, less);
  if (it == std::end(kNamedReferences) || std::string_view(it->name) != name) return nullptr;
  return it;
}

void append_utf8_value(const char* utf8, std::u32string& out) {
  // Values are one or two code points of valid UTF-8 (generated from Python's table).
  const auto* p = reinterpret_cast<const unsigned char*>(utf8);
  while (*p) {
    char32_t cp;
    int extra;
    if (*p < 0x80) {
      cp = *p, extra = 0;
    } else if (*p < 0xE0) {
      cp = *p & 0x1F, extra = 1;
    } else if (*p < 0xF0) {
      cp = *p & 0x0F, extra = 2;
    } else {
      cp = *p & 0x07, extra = 3;
    }
    ++p;
    for (int i = 0; i < extra; ++i) cp = (cp << 6) | (*p++ & 0x3F);
    out.push_back(cp);
  }
}

// What html.unescape puts for the numeric reference `value` (`overflow`: more than U+10FFFF).
void append_numeric_reference(char32_t value, bool overflow, std::u32string& out) {
  // The HTML5 "numeric character reference end state" table: 0x80-0x9F are read as windows-1252.
  static constexpr char32_t kC1Remap[32] = {
      0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  if (overflow || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) || value == 0) {
    out.push_back(0xFFFD);
  } else if (value == 0x0D) {
    out.push_back(0x0D);
  } else if (value >= 0x80 && value <= 0x9F) {
    out.push_back(kC1Remap[value - 0x80]);
  } else if ((value >= 0x01 && value <= 0x08) || value == 0x0B || (value >= 0x0E && value <= 0x1F) ||
             value == 0x7F || (value >= 0xFDD0 && value <= 0xFDEF) || (value & 0xFFFE) == 0xFFFE) {
    // Python's _invalid_codepoints: removed.
  } else {
    out.push_back(value);
  }
}

bool is_ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_ascii_hex(char32_t c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char32_t c) {
  return is_ascii_digit(c) ? int(c - '0') : (c >= 'a' ? int(c - 'a' + 10) : int(c - 'A' + 10));
}

// Parses `#[0-9]+;?` or `#[xX][0-9a-fA-F]+;?` at text[pos] (just after '&'). Returns the end of the
// match, or pos when neither form matches.
size_t unescape_numeric(std::u32string_view text, size_t pos, std::u32string& out) {
  size_t digits = pos + 1;
  int base = 10;
  if (digits < text.size() && (text[digits] == 'x' || text[digits] == 'X')) {
    // `#[0-9]+` cannot match here, so only the hex form is a candidate.
    base = 16;
    ++digits;
  }
  size_t end = digits;
  char32_t value = 0;
  bool overflow = false;
  while (end < text.size() && (base == 16 ? is_ascii_hex(text[end]) : is_ascii_digit(text[end]))) {
    value = value * base + (base == 16 ? hex_value(text[end]) : int(text[end] - '0'));
    if (value > 0x10FFFF) overflow = true, value = 0x110000;  // saturate: any larger value acts alike
    ++end;
  }
  if (end == digits) return pos;
  if (end < text.size() && text[end] == ';') ++end;
  append_numeric_reference(value, overflow, out);
  return end;
}

bool ends_reference_name(char32_t c) {
  return c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' || c == '&' || c == '#' || c == ';';
}

// Matches `[^\t\n\f <&#;]{1,32};?` at text[pos] and appends its replacement. Returns the end of the
// match, or pos when there is no name character.
size_t unescape_named(std::u32string_view text, size_t pos, std::u32string& out) {
  size_t end = pos;
  while (end < text.size() && end - pos < 32 && !ends_reference_name(text[end])) ++end;
  if (end == pos) return pos;
  const std::u32string_view name = text.substr(pos, end - pos);
  const bool semicolon = end < text.size() && text[end] == ';';
  if (semicolon) ++end;
  // Names are ASCII: only the prefix before the first other character can match.
  std::string ascii;
  for (char32_t c : name) {
    if (c >= 0x80) break;
    ascii.push_back(static_cast<char>(c));
  }
  if (ascii.size() == name.size()) {
    const NamedReference* whole = find_named(ascii);
    if (whole && (semicolon || whole->bare)) {
      append_utf8_value(whole->value, out);
      return end;
    }
  }
  // Longest legacy name that is a proper prefix of name + ';' (at least two characters); the rest is
  // kept as text.
  const size_t longest = std::min(ascii.size(), semicolon ? name.size() : name.size() - 1);
  for (size_t length = longest; length >= 2; --length) {
    const NamedReference* prefix = find_named(std::string_view(ascii).substr(0, length));
    if (prefix && prefix->bare) {
      append_utf8_value(prefix->value, out);
      out.append(text.substr(pos + length, end - pos - length));
      return end;
    }
  }
  out.push_back('&');
  out.append(text.substr(pos, end - pos));
  return end;
}

// Final_Sigma context (Unicode 3.13): Case_Ignorable per DerivedCoreProperties (Mn, Me, Cf, Lm, Sk and
// the Word_Break MidLetter, MidNumLet and Single_Quote characters).
bool case_ignorable(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  static constexpr char32_t kWordBreakMid[] = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,
                                               0x5F4,  0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                                               0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
  return std::find(std::begin(kWordBreakMid), std::end(kWordBreakMid), c) != std::end(kWordBreakMid);
}

// Cased (Lowercase or Uppercase or Lt), asked only of characters that are not case_ignorable. Besides
// Lu/Ll/Lt and characters with a case mapping (Roman numerals, circled letters), the Other_Lowercase /
// Other_Uppercase characters without one are U+00AA, U+00BA and the squared/negative squared letters.
bool cased(char32_t c) {
  const auto cp = static_cast<utf8proc_int32_t>(c);
  const auto category = utf8proc_category(cp);
  if (category == UTF8PROC_CATEGORY_LU || category == UTF8PROC_CATEGORY_LL || category == UTF8PROC_CATEGORY_LT) {
    return true;
  }
  if (utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp) return true;
  return c == 0xAA || c == 0xBA || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
         (c >= 0x1F170 && c <= 0x1F189);
}

// CPython's handle_capital_sigma: final form when a cased letter precedes (skipping case-ignorable
// characters) and none follows.
bool is_final_sigma(std::u32string_view text, size_t i) {
  size_t j = i;
  while (j > 0 && case_ignorable(text[j - 1])) --j;
  if (j == 0 || !cased(text[j - 1])) return false;
  j = i + 1;
  while (j < text.size() && case_ignorable(text[j])) ++j;
  return j == text.size() || !cased(text[j]);
}

}  // namespace

bool python_isspace(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  return unicode_white_space(c);
}

bool unicode_white_space(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || c == 0x20;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::u32string_view python_strip(std::u32string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && python_isspace(text[begin])) ++begin;
  while (end > begin && python_isspace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::u32string python_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (c == 0x130) {  // the only unconditional multi-character lowercase mapping
      out.push_back('i');
      out.push_back(0x307);
    } else if (c == 0x3A3) {
      out.push_back(is_final_sigma(text, i) ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
  return out;
}

std::u32string html_unescape(std::u32string_view text) {
  if (text.find(U'&') == std::u32string_view::npos) return std::u32string(text);
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    const size_t after = i + 1;
    size_t end = after;
    if (after < text.size() && text[after] == '#') {
      end = unescape_numeric(text, after, out);
    } else {
      end = unescape_named(text, after, out);
    }
    if (end == after) {
      out.push_back('&');  // no reference here: a plain ampersand
      end = after;
    }
    i = end;
  }
  return out;
}

}  // namespace btadapter::text
