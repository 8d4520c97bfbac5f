#pragma once
/// The names of an enum's values, written once next to the enum: what every enum that is printed, read
/// from a config or a command line, or written to a file goes through (one rule for all of them).
///
/// Each enum declares its table right after itself, in namespace btadapter:
///   template <>
///   struct EnumNames<dist::GatherMode> {
///     static constexpr const char* kWhat = "gather mode";
///     static constexpr std::array<std::pair<dist::GatherMode, const char*>, 2> kNames{
///         {{dist::GatherMode::kSum, "sum"}, {dist::GatherMode::kOfficial, "official"}}};
///   };
/// Usage:
///   enum_name(dist::GatherMode::kSum)                  // "sum"
///   enum_from_name<dist::GatherMode>("official")      // GatherMode::kOfficial
///   enum_from_name<dist::GatherMode>("mean")          // throws "expected gather mode 'sum' or 'official', got 'mean'"
///   enum_choices<dist::GatherMode>()                   // "sum | official"
///
/// Thread safety: constant tables and pure functions.

#include <c10/util/Exception.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace btadapter {

/// Specialised next to each named enum (see above); the primary template has no definition.
template <typename E>
struct EnumNames;

/// The name of `value`; throws c10::Error for a value outside the table (a cast integer).
template <typename E>
const char* enum_name(E value) {
  for (const auto& [v, name] : EnumNames<E>::kNames) {
    if (v == value) return name;
  }
  TORCH_CHECK(false, "expected a ", EnumNames<E>::kWhat, ", got the unnamed value ", static_cast<int64_t>(value));
}

/// Every name in table order, joined by `separator`.
template <typename E>
std::string enum_choices(const std::string& separator = " | ") {
  std::string out;
  for (const auto& entry : EnumNames<E>::kNames) out += (out.empty() ? "" : separator) + std::string(entry.second);
  return out;
}

/// The value named `name`; throws c10::Error listing the accepted names otherwise.
template <typename E>
E enum_from_name(const std::string& name) {
  const auto& names = EnumNames<E>::kNames;
  std::string accepted;
  for (size_t i = 0; i < names.size(); ++i) {
    if (name == names[i].second) return names[i].first;
    accepted += std::string(i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + "'" + names[i].second + "'";
  }
  constexpr size_t kShown = 100;  // a name from a file can be long: the message quotes its start
  TORCH_CHECK(false, "expected ", EnumNames<E>::kWhat, " ", accepted, ", got '", name.substr(0, kShown),
              name.size() > kShown ? "...'" : "'");
}

}  // namespace btadapter
