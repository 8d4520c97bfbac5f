#pragma once
/// Bounded JSON reading for files from outside (safetensors headers, annotation files, vocab.json).
///
/// nlohmann's parser and destructor recurse once per nesting level, so ~100k nested arrays overflow the
/// stack, and its lexer reads a NUL byte as the end of input, so `{}\0garbage` parses as `{}`. The
/// functions here scan the raw text first (linear, no allocation) and refuse both before parsing; error
/// messages quote a bounded prefix of a value instead of dump()ing it whole.
///
///   const auto j = btadapter::io::parse_json_bounded(text, "annotation file 'a.json' is not valid JSON");
///   TORCH_CHECK(j.is_object(), "expected an object, got ", btadapter::io::json_quote(j));
///
/// Thread safety: pure functions.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace btadapter::io {

/// Deepest array/object nesting accepted by default (serde_json's recursion limit, which the reference
/// safetensors reader inherits); real annotation, vocabulary and header files nest at most 4 levels.
constexpr int kMaxJsonDepth = 128;

/// What is wrong with `text` before any parsing: "" when it holds no NUL byte and nests arrays/objects at
/// most `max_depth` deep (strings are skipped), else e.g. "NUL byte at offset 12" or "arrays/objects nest
/// deeper than 128 levels at offset 128". Syntax is left to the parser.
std::string json_text_problem(std::string_view text, int max_depth = kMaxJsonDepth);

struct JsonParseOptions {
  int max_depth = kMaxJsonDepth;
  /// Refuse an object that repeats a key (nlohmann, like Python, would keep one silently).
  bool refuse_duplicate_keys = false;
};

/// Parses a whole JSON document (only whitespace may follow it) after json_text_problem; any problem
/// throws c10::Error "<what>: <problem>", `what` naming the file (e.g. "annotation file 'a.json' is not valid JSON").
nlohmann::json parse_json_bounded(std::string_view text, const std::string& what, const JsonParseOptions& options = {});
/// The same, keeping object keys in file order.
nlohmann::ordered_json parse_ordered_json_bounded(std::string_view text, const std::string& what,
                                                  const JsonParseOptions& options = {});

/// At most about `max_chars` of a value's compact JSON text, built without recursion and without
/// serialising the rest; "..." marks a cut. Invalid UTF-8 in strings is replaced, never thrown on.
std::string json_quote(const nlohmann::json& value, size_t max_chars = 80);
std::string json_quote(const nlohmann::ordered_json& value, size_t max_chars = 80);

/// Raw text for a message: at most `max_chars` bytes, control bytes escaped (\n, \x00), and
/// "... (N bytes)" when cut, so a 10 MB key or a key holding a NUL quotes safely.
std::string quote_text(std::string_view text, size_t max_chars = 80);

}  // namespace btadapter::io
