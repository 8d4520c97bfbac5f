#pragma once
/// Crash-safe file replacement for everything the library writes (model files, checkpoints, configs,
/// results, annotations, videos). The content goes to a temporary file in the same folder, is flushed to
/// disk, and the temporary file is renamed over the target, so a reader (or a resumed run) sees either
/// the old file or the complete new one, never a prefix. On failure the temporary file is removed and a
/// c10::Error names the target path. Missing parent folders are created.
///
/// Temporary names are "<path>.tmp.<pid>", or "<path>.tmp.<pid><ext>" for writers that choose the format
/// from the file extension (OpenCV, image and video writers). A process killed mid-write (kill -9, power
/// loss) leaves its temporary file behind; remove_stale_temp_files() clears them when a run restarts.
///
/// Thread safety: concurrent calls for different paths are safe; two writers of the same path in one
/// process must be serialised by the caller.

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace btadapter::io {

/// Writes `bytes` to `path` atomically.
void write_file_atomically(const std::string& path, std::string_view bytes);

/// Same, with the content produced by `write` into a binary stream (no in-memory copy of large payloads).
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

/// For writers that need a file name: `write(temp_path)` must create the file at `temp_path` (which ends
/// with the extension of `path`); it is then synced and renamed over `path`.
void write_path_atomically(const std::string& path, const std::function<void(const std::string& temp_path)>& write);

/// True when `file_name` (no folder) is a name the functions above give a temporary file:
/// "<name>.tmp.<digits>" followed by nothing or by the extension of <name>.
bool is_atomic_temp_name(const std::string& file_name);

/// Removes the temporary files that killed writers left directly in `folder` (not below it): only names
/// is_atomic_temp_name() accepts, and only when their pid is this process's or no running process's (a
/// live writer elsewhere keeps its file). Returns the removed paths; a missing folder removes nothing.
/// Throws c10::Error naming the file when one cannot be removed.
std::vector<std::string> remove_stale_temp_files(const std::string& folder);

}  // namespace btadapter::io
