#include "btadapter/text/utf8.h"

#include <cstdint>

namespace btadapter::text {
namespace {

// Decodes one code point starting at bytes[pos]. On return `pos` is past the consumed bytes: the whole
// character, or the maximal subpart of an ill-formed sequence (at least one byte), which yields
// kInvalid.
constexpr char32_t kInvalid = 0xFFFFFFFF;

char32_t decode_one(std::string_view bytes, size_t& pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  const uint8_t lead = byte(pos++);
  if (lead < 0x80) return lead;
  int continuation;
  uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte (Table 3-7)
  char32_t cp;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation = 2;
    cp = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation = 3;
    cp = lead & 0x07;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return kInvalid;  // 80..C1, F5..FF never start a character
  }
  for (int i = 0; i < continuation; ++i) {
    if (pos >= bytes.size()) return kInvalid;
    const uint8_t b = byte(pos);
    if (b < low || b > high) return kInvalid;  // b is not consumed: it starts the next unit
    cp = (cp << 6) | (b & 0x3F);
    ++pos;
    low = 0x80;
    high = 0xBF;
  }
  return cp;
}

}  // namespace

std::u32string utf8_decode(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const char32_t cp = decode_one(bytes, pos);
    out.push_back(cp == kInvalid ? kReplacementChar : cp);
  }
  return out;
}

void utf8_append(char32_t cp, std::string& out) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = kReplacementChar;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_encode(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) utf8_append(cp, out);
  return out;
}

std::string utf8_sanitize(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t start = pos;
    const char32_t cp = decode_one(bytes, pos);
    if (cp == kInvalid) {
      utf8_append(kReplacementChar, out);
    } else {
      out.append(bytes.substr(start, pos - start));
    }
  }
  return out;
}

}  // namespace btadapter::text
