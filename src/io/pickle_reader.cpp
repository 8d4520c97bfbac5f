#include "btadapter/io/pickle_reader.h"

#include <c10/util/Exception.h>

#include <cstring>
#include <unordered_map>

namespace btadapter::io {

const char* to_string(PickleValue::Kind kind) {
  using K = PickleValue::Kind;
  switch (kind) {
    case K::kNone: return "None";
    case K::kBool: return "bool";
    case K::kInt: return "int";
    case K::kFloat: return "float";
    case K::kString: return "str";
    case K::kBytes: return "bytes";
    case K::kList: return "list";
    case K::kTuple: return "tuple";
    case K::kDict: return "dict";
    case K::kGlobal: return "global";
    case K::kStorage: return "storage";
    case K::kTensor: return "tensor";
  }
  return "?";
}

namespace {

using PickleKind = PickleValue::Kind;

/// One pass over the opcodes; `at` is the offset of the opcode being executed (for messages).
class Unpickler {
 public:
  Unpickler(std::string_view bytes, const PickleHooks& hooks) : bytes_(bytes), hooks_(hooks) {}

  Unpickled run() {
    while (true) {
      TORCH_CHECK(pos_ < bytes_.size(), "the pickle ends without a STOP opcode");
      at_ = pos_;
      const auto op = static_cast<unsigned char>(bytes_[pos_++]);
      if (op == '.') break;
      step(op);
    }
    TORCH_CHECK(marks_.empty() && stack_.size() == 1, "STOP with ", stack_.size(), " values on the stack and ",
                marks_.size(), " open MARKs; expected exactly one value");
    TORCH_CHECK(pos_ == bytes_.size(), bytes_.size() - pos_, " bytes follow the STOP opcode");
    out_.root = stack_.back();
    return std::move(out_);
  }

  size_t offset() const { return at_; }

 private:
  void step(unsigned char op) {
    switch (op) {
      case 0x80: TORCH_CHECK(take(1) <= 5, "unsupported pickle protocol"); break;  // PROTO
      case 0x95: take(8); break;                                                    // FRAME: length only
      case 'N': push(PickleKind::kNone); break;
      case 0x88: push(PickleKind::kBool).integer = 1; break;
      case 0x89: push(PickleKind::kBool); break;
      case 'J': push(PickleKind::kInt).integer = static_cast<int32_t>(take(4)); break;
      case 'K': push(PickleKind::kInt).integer = static_cast<int64_t>(take(1)); break;
      case 'M': push(PickleKind::kInt).integer = static_cast<int64_t>(take(2)); break;
      case 0x8a: push(PickleKind::kInt).integer = long1(); break;
      case 'G': push(PickleKind::kFloat).real = binfloat(); break;
      case 'X': push_text(PickleKind::kString, take(4)); break;
      case 0x8c: push_text(PickleKind::kString, take(1)); break;
      case 0x8d: push_text(PickleKind::kString, take(8)); break;
      case 'B': push_text(PickleKind::kBytes, take(4)); break;
      case 'C': push_text(PickleKind::kBytes, take(1)); break;
      case ']': push(PickleKind::kList); break;
      case '}': push(PickleKind::kDict); break;
      case ')': push(PickleKind::kTuple); break;
      case '(': mark(); break;
      case 'l': container_from_mark(PickleKind::kList); break;
      case 't': container_from_mark(PickleKind::kTuple); break;
      case 'd': container_from_mark(PickleKind::kDict); break;
      case 0x85: case 0x86: case 0x87: tuple_of(op - 0x84); break;
      case 'a': add_to(PickleKind::kList, 1, false); break;
      case 'e': add_to(PickleKind::kList, 0, true); break;
      case 's': add_to(PickleKind::kDict, 2, false); break;
      case 'u': add_to(PickleKind::kDict, 0, true); break;
      case 'c': global(); break;
      case 0x93: stack_global(); break;
      case 'R': reduce(); break;
      case 'b': build(); break;
      case 'Q': persistent_id(); break;
      case 'q': memo_put(take(1)); break;
      case 'r': memo_put(take(4)); break;
      case 0x94: memo_put(memo_.size()); break;
      case 'h': memo_get(take(1)); break;
      case 'j': memo_get(take(4)); break;
      default: TORCH_CHECK(false, "unsupported pickle opcode 0x", std::hex, int(op), std::dec,
                           " (not one a torch.save state dict uses)");
    }
  }

  uint64_t take(int width) {
    TORCH_CHECK(bytes_.size() - pos_ >= static_cast<size_t>(width), "the pickle ends inside an opcode argument");
    uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);
    pos_ += width;
    return value;
  }

  int64_t long1() {
    const uint64_t width = take(1);
    TORCH_CHECK(width <= 8, "integer of ", width, " bytes; expected at most 8");
    if (width == 0) return 0;
    uint64_t value = take(static_cast<int>(width));
    if (width < 8 && (value >> (8 * width - 1)) != 0) value |= ~uint64_t{0} << (8 * width);  // sign-extend
    return static_cast<int64_t>(value);
  }

  double binfloat() {
    TORCH_CHECK(bytes_.size() - pos_ >= 8, "the pickle ends inside an opcode argument");
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);  // big-endian
    pos_ += 8;
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }

  PickleValue& make(PickleKind kind) {
    TORCH_CHECK(out_.values.size() < kMaxPickleValues, "more than ", kMaxPickleValues, " values");
    out_.values.emplace_back().kind = kind;
    return out_.values.back();
  }
  PickleValue& push(PickleKind kind) {
    PickleValue& value = make(kind);
    stack_.push_back(&value);
    return value;
  }
  void push_text(PickleKind kind, uint64_t length) {
    TORCH_CHECK(length <= bytes_.size() - pos_, "a string of ", length, " bytes runs past the end of the pickle");
    push(kind).text.assign(bytes_.substr(pos_, length));
    pos_ += length;
  }

  size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
  size_t values_above_mark() {
    TORCH_CHECK(!marks_.empty(), "the opcode needs a MARK, found none");
    return stack_.size() - marks_.back();
  }
  void need(size_t count) {
    TORCH_CHECK(stack_.size() - base() >= count, "stack underflow: the opcode needs ", count,
                " values above the innermost MARK, found ", stack_.size() - base());
  }
  PickleValue* pop() {
    need(1);
    PickleValue* top = stack_.back();
    stack_.pop_back();
    return top;
  }
  PickleValue& top() {
    need(1);
    return *stack_.back();
  }

  void mark() {
    TORCH_CHECK(marks_.size() < kMaxPickleDepth, "MARKs nested deeper than ", kMaxPickleDepth);
    marks_.push_back(stack_.size());
  }
  void add_item(PickleValue& container, PickleValue* item) {
    container.depth = std::max(container.depth, item->depth + 1);
    TORCH_CHECK(container.depth <= kMaxPickleDepth, "values nested deeper than ", kMaxPickleDepth);
    container.items.push_back(item);
  }
  void container_from_mark(PickleKind kind) {
    const size_t count = values_above_mark();
    TORCH_CHECK(kind != PickleKind::kDict || count % 2 == 0, "DICT with an odd number (", count, ") of keys and values");
    std::vector<PickleValue*> items(stack_.end() - count, stack_.end());
    stack_.resize(stack_.size() - count);
    marks_.pop_back();
    PickleValue& container = push(kind);
    for (PickleValue* item : items) add_item(container, item);
  }
  void tuple_of(size_t count) {
    need(count);
    std::vector<PickleValue*> items(stack_.end() - count, stack_.end());
    stack_.resize(stack_.size() - count);
    PickleValue& tuple = push(PickleKind::kTuple);
    for (PickleValue* item : items) add_item(tuple, item);
  }
  /// APPEND / SETITEM (`values` items above their target) and APPENDS / SETITEMS (every item above the
  /// innermost MARK, the target just below it).
  void add_to(PickleKind kind, size_t values, bool from_mark) {
    size_t first;
    if (from_mark) {
      values = values_above_mark();
      first = marks_.back();
      const size_t outer = marks_.size() > 1 ? marks_[marks_.size() - 2] : 0;
      TORCH_CHECK(first > outer, "stack underflow: no container below the MARK");
    } else {
      need(values + 1);
      first = stack_.size() - values;
    }
    TORCH_CHECK(kind != PickleKind::kDict || values % 2 == 0, "SETITEMS with an odd number (", values,
                ") of keys and values");
    PickleValue& target = *stack_[first - 1];
    TORCH_CHECK(target.kind == kind, "expected a ", to_string(kind), " to add items to, got ", to_string(target.kind));
    for (size_t i = first; i < stack_.size(); ++i) add_item(target, stack_[i]);
    stack_.resize(first);
    if (from_mark) marks_.pop_back();
  }

  std::string line() {
    const size_t end = bytes_.find('\n', pos_);
    TORCH_CHECK(end != std::string_view::npos && end - pos_ <= 256, "GLOBAL without a newline-terminated name");
    std::string text(bytes_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return text;
  }
  void global() {
    const std::string module = line();
    const std::string name = line();
    stack_.push_back(&store(hooks_.find_class(module, name)));
  }
  void stack_global() {
    PickleValue* name = pop();
    PickleValue* module = pop();
    TORCH_CHECK(module->kind == PickleKind::kString && name->kind == PickleKind::kString,
                "STACK_GLOBAL expects two strings, got ", to_string(module->kind), " and ", to_string(name->kind));
    stack_.push_back(&store(hooks_.find_class(module->text, name->text)));
  }
  void reduce() {
    PickleValue* args = pop();
    PickleValue* callable = pop();
    TORCH_CHECK(callable->kind == PickleKind::kGlobal && args->kind == PickleKind::kTuple,
                "REDUCE expects a global and a tuple, got ", to_string(callable->kind), " and ",
                to_string(args->kind));
    stack_.push_back(&store(hooks_.reduce(*callable, *args)));
  }
  /// BUILD sets an object's state; the only objects here are OrderedDicts, whose state (`_metadata`) is
  /// not needed.
  void build() {
    PickleValue* state = pop();
    const PickleValue& target = top();
    TORCH_CHECK(target.kind == PickleKind::kDict && (state->kind == PickleKind::kDict || state->kind == PickleKind::kNone ||
                                                 state->kind == PickleKind::kTuple),
                "BUILD expects a dict and its state, got ", to_string(target.kind), " and ", to_string(state->kind));
  }
  void persistent_id() {
    PickleValue* id = pop();
    stack_.push_back(&store(hooks_.persistent_load(*id)));
  }
  PickleValue& store(PickleValue value) {
    PickleValue& slot = make(value.kind);
    slot = std::move(value);
    return slot;
  }

  void memo_put(uint64_t index) {
    TORCH_CHECK(!stack_.empty(), "memo store with an empty stack");
    memo_[index] = stack_.back();
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    TORCH_CHECK(it != memo_.end(), "memo entry ", index, " is read but was never stored");
    stack_.push_back(it->second);
  }

  std::string_view bytes_;
  const PickleHooks& hooks_;
  size_t pos_ = 0, at_ = 0;
  std::vector<PickleValue*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleValue*> memo_;
  Unpickled out_;
};

}  // namespace

Unpickled unpickle(std::string_view bytes, const PickleHooks& hooks, const std::string& where) {
  Unpickler unpickler(bytes, hooks);
  try {
    return unpickler.run();
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, where, " at offset ", unpickler.offset(), ": ", e.what_without_backtrace());
  }
}

}  // namespace btadapter::io
