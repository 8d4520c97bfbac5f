#pragma once
// Private helper of src/eval: whole-file writes that never leave a half-written file behind.

#include <string>
#include <string_view>

namespace btadapter::eval::detail {

/// Writes `content` to `<path>.tmp.<pid>`, flushes it and renames it over `path`; throws naming the path
/// on any failure (the temp file is removed).
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace btadapter::eval::detail
