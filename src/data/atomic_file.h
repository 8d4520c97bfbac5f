#pragma once
// Internal: files written under a temporary name in the same folder and renamed into place, so a crash
// never leaves a half-written file under the real name.

#include <string>

namespace btadapter::data::detail {

/// "<dir>/.<stem>.tmp<pid><ext>": same folder (rename is atomic) and same extension (writers such as
/// OpenCV's pick the format from it).
std::string temp_path_for(const std::string& path);

/// Writes `text` to temp_path_for(path), then renames it to `path`; throws naming the path on failure.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace btadapter::data::detail
