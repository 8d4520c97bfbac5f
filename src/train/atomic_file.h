#pragma once
// Crash-safe file replacement for everything train/ writes (checkpoints, the resolved config): the bytes
// go to "<path>.tmp.<pid>", are flushed to disk, and the temp file is renamed over `path`, so a reader
// (or a resumed run) sees either the old file or the complete new one, never a prefix.

#include <functional>
#include <ostream>
#include <string>

namespace btadapter::train {

/// Writes `bytes` to `path` atomically; throws c10::Error naming the path on any I/O failure (the temp
/// file is removed then).
void write_file_atomically(const std::string& path, const std::string& bytes);

/// Same, with the content produced by `write` into a stream (no in-memory copy of large payloads).
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

/// Whether `file_name` is a temp file left by write_file_atomically (".tmp.<digits>" suffix).
bool is_atomic_temp_name(const std::string& file_name);

}  // namespace btadapter::train
