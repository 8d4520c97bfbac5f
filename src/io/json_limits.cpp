#include "btadapter/io/json_limits.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <unordered_set>
#include <vector>

namespace btadapter::io {

namespace {

template <class Json>
Json parse_bounded(std::string_view text, const std::string& what, const JsonParseOptions& options) {
  const std::string problem = json_text_problem(text, options.max_depth);
  TORCH_CHECK(problem.empty(), what, ": ", problem);
  // One key set per open object; the callback sees every object start/end and key in document order.
  std::vector<std::unordered_set<std::string>> open_objects;
  std::string duplicate;
  typename Json::parser_callback_t callback = nullptr;
  if (options.refuse_duplicate_keys) {
    callback = [&](int, nlohmann::json::parse_event_t event, Json& parsed) {
      using Event = nlohmann::json::parse_event_t;
      if (event == Event::object_start) {
        open_objects.emplace_back();
      } else if (event == Event::object_end) {
        open_objects.pop_back();
      } else if (event == Event::key && !open_objects.empty() &&
                 !open_objects.back().insert(parsed.template get<std::string>()).second) {
        duplicate = parsed.template get<std::string>();
        throw std::runtime_error("duplicate key");
      }
      return true;
    };
  }
  try {
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::exception& e) {
    TORCH_CHECK(false, what, ": ", quote_text(e.what(), 240));  // nlohmann quotes the whole last token
  } catch (const std::runtime_error&) {
    TORCH_CHECK(false, what, ": key '", quote_text(duplicate), "' appears twice in one object");
  }
}

template <class Json>
void append_scalar(const Json& value, size_t max_chars, std::string& out) {
  if (value.is_string()) {
    const auto& s = value.template get_ref<const std::string&>();
    const bool cut = s.size() > max_chars;
    out += Json(cut ? s.substr(0, max_chars) : s).dump(-1, ' ', false, Json::error_handler_t::replace);
    if (cut) out.insert(out.size() - 1, "...");
  } else {
    out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

template <class Json>
std::string quote_bounded(const Json& root, size_t max_chars) {
  struct Frame {
    const Json* value;
    typename Json::const_iterator next;
    bool first;
  };
  std::string out;
  std::vector<Frame> stack;
  const auto open = [&](const Json& v) {
    if (v.is_structured()) {
      out += v.is_object() ? '{' : '[';
      stack.push_back({&v, v.cbegin(), true});
    } else {
      append_scalar(v, max_chars, out);
    }
  };
  open(root);
  while (!stack.empty() && out.size() <= max_chars) {
    Frame& frame = stack.back();
    if (frame.next == frame.value->cend()) {
      out += frame.value->is_object() ? '}' : ']';
      stack.pop_back();
      continue;
    }
    if (!frame.first) out += ',';
    frame.first = false;
    const Json& child = *frame.next;
    if (frame.value->is_object()) {
      append_scalar(Json(frame.next.key()), max_chars, out);
      out += ':';
    }
    ++frame.next;  // before open(): pushing may move the frame
    open(child);
  }
  if (out.size() > max_chars || !stack.empty()) out = out.substr(0, max_chars) + "...";
  return out;
}

}  // namespace

std::string json_text_problem(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') return "NUL byte at offset " + std::to_string(i);
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return "arrays/objects nest deeper than " + std::to_string(max_depth) + " levels at offset " +
               std::to_string(i);
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return "";
}

nlohmann::json parse_json_bounded(std::string_view text, const std::string& what, const JsonParseOptions& options) {
  return parse_bounded<nlohmann::json>(text, what, options);
}

nlohmann::ordered_json parse_ordered_json_bounded(std::string_view text, const std::string& what,
                                                  const JsonParseOptions& options) {
  return parse_bounded<nlohmann::ordered_json>(text, what, options);
}

std::string json_quote(const nlohmann::json& value, size_t max_chars) { return quote_bounded(value, max_chars); }

std::string json_quote(const nlohmann::ordered_json& value, size_t max_chars) {
  return quote_bounded(value, max_chars);
}

std::string quote_text(std::string_view text, size_t max_chars) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_chars) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace btadapter::io
