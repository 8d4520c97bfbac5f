#include "btadapter/io/json_limits.h"

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdio>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace btadapter::io {

namespace {

// Builds the document from nlohmann's SAX events. Its own DOM parser adds each key with operator[],
// which for ordered_json is a linear search of the object (300k keys: 61 s); here a key is appended
// (ordered_json) or inserted (std::map) once, with a hash index per open ordered object for repeats, so
// parsing stays linear. A repeated key keeps its first position and its last value, as nlohmann does,
// or is refused.
template <class Json>
class DomBuilder {
 public:
  using number_integer_t = typename Json::number_integer_t;
  using number_unsigned_t = typename Json::number_unsigned_t;
  using number_float_t = typename Json::number_float_t;
  using string_t = typename Json::string_t;
  using binary_t = typename Json::binary_t;

  DomBuilder(Json& root, bool refuse_duplicate_keys) : root_(root), refuse_duplicates_(refuse_duplicate_keys) {}

  bool null() { return add(Json(nullptr)) != nullptr; }
  bool boolean(bool v) { return add(Json(v)) != nullptr; }
  bool number_integer(number_integer_t v) { return add(Json(v)) != nullptr; }
  bool number_unsigned(number_unsigned_t v) { return add(Json(v)) != nullptr; }
  bool number_float(number_float_t v, const string_t&) { return add(Json(v)) != nullptr; }
  bool string(string_t& v) { return add(Json(std::move(v))) != nullptr; }
  bool binary(binary_t& v) { return add(Json::binary(std::move(v))) != nullptr; }
  bool start_object(std::size_t) {
    open_.push_back({add(Json::object()), {}});
    return true;
  }
  bool start_array(std::size_t) {
    open_.push_back({add(Json::array()), {}});
    return true;
  }
  bool end_object() { return end(); }
  bool end_array() { return end(); }

  bool key(string_t& key) {
    Open& top = open_.back();
    auto& object = top.value->template get_ref<typename Json::object_t&>();
    if constexpr (std::is_same_v<Json, nlohmann::ordered_json>) {
      const auto [at, fresh] = top.index.emplace(key, object.size());
      if (fresh) {
        object.emplace_back(std::move(key), Json());  // the vector's append, not ordered_map's search
        pending_ = &object.back().second;
        return true;
      }
      pending_ = &(object.begin() + static_cast<std::ptrdiff_t>(at->second))->second;
    } else {
      const auto [at, fresh] = object.emplace(key, Json());
      pending_ = &at->second;
      if (fresh) return true;
    }
    if (!refuse_duplicates_) return true;
    error_ = "key '" + quote_text(key) + "' appears twice in one object";
    return false;
  }

  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& e) {
    error_ = quote_text(e.what(), 240);  // nlohmann quotes the whole last token
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  struct Open {
    Json* value;
    std::unordered_map<std::string, size_t> index;  // ordered objects: key -> position
  };

  // The new value's place: the root, the end of the open array, or the value of the last key.
  Json* add(Json&& value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& top = *open_.back().value;
    if (top.is_array()) {
      auto& array = top.template get_ref<typename Json::array_t&>();
      array.push_back(std::move(value));
      return &array.back();
    }
    *pending_ = std::move(value);
    return pending_;
  }

  bool end() {
    open_.pop_back();
    return true;
  }

  Json& root_;
  bool refuse_duplicates_;
  std::vector<Open> open_;  // pointers stay valid: only the innermost open container grows
  Json* pending_ = nullptr;
  std::string error_;
};

template <class Json>
Json parse_bounded(std::string_view text, const std::string& what, const JsonParseOptions& options) {
  const std::string problem = json_text_problem(text, options.max_depth);
  TORCH_CHECK(problem.empty(), what, ": ", problem);
  Json result;
  DomBuilder<Json> builder(result, options.refuse_duplicate_keys);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &builder);
  TORCH_CHECK(ok, what, ": ", builder.error());
  return result;
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
