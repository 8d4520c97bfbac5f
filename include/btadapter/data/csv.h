#pragma once
/// A streaming reader for delimited text files: RFC 4180 CSV (quoted fields with the delimiter, doubled
/// quotes and line breaks inside) or plain delimited lists (TSV without quoting, as LSMDC and UCF101
/// ship). Handles a UTF-8 byte-order mark and LF, CRLF or CR-only line ends. Rows are read one at a time, so a 640 MB
/// WebVid CSV never sits in memory as text.
///
/// Malformed input does not throw: a row whose quote never closes is returned with `error` set (it
/// then runs to the end of the file), so callers can name the line or skip it.
///
/// Thread safety: one reader per thread.

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace btadapter::data {

struct CsvRow {
  int64_t line = 0;                 ///< 1-based line where the row starts
  std::vector<std::string> fields;  ///< the fields, quotes removed
  std::string error;                ///< empty, or why the row is malformed
};

class CsvReader {
 public:
  /// Opens `path`; throws c10::Error naming it when it cannot be read.
  explicit CsvReader(const std::string& path, char delimiter = ',', bool quoting = true);
  /// Reads the next non-empty row; false at the end of the file.
  bool next(CsvRow& row);
  /// Reads the next raw line (without its LF, CRLF or lone CR; empty lines included) for line-based
  /// formats such as JSONL; false at the end of the file. Do not mix with next() on one reader.
  bool next_line(std::string& line);
  const std::string& path() const { return path_; }
  /// The last line read so far (1-based; 0 before the first).
  int64_t line() const { return line_; }
  /// True once the file's last line has been read and had no line break (the file may have been cut).
  bool ended_without_line_break() const { return unterminated_; }

 private:
  std::string path_;
  std::ifstream in_;
  char delimiter_;
  bool quoting_;
  int64_t line_ = 0;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;
  bool skip_lf_ = false;  // the last line ended with '\r': a '\n' right after it belongs to it
  bool unterminated_ = false;
};

}  // namespace btadapter::data
