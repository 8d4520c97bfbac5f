#include "btadapter/data/csv.h"

#include <c10/util/Exception.h>

#include <algorithm>

namespace btadapter::data {

CsvReader::CsvReader(const std::string& path, char delimiter, bool quoting)
    : path_(path), in_(path, std::ios::binary), delimiter_(delimiter), quoting_(quoting), buffer_(1 << 16) {
  TORCH_CHECK(in_.is_open(), "cannot open annotation file '", path, "'");
}

// Lines end at "\n", "\r\n" or a lone "\r" (classic Mac files), so a CR-only file is many lines, not one.
bool CsvReader::next_line(std::string& line) {
  line.clear();
  bool started = false;
  for (;;) {
    if (pos_ == end_) {
      in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      end_ = static_cast<size_t>(in_.gcount());
      pos_ = 0;
      if (end_ == 0) {
        if (!started) return false;
        unterminated_ = true;
        break;
      }
    }
    if (skip_lf_) {
      skip_lf_ = false;
      if (buffer_[pos_] == '\n') {
        ++pos_;
        continue;
      }
    }
    started = true;
    const char* begin = buffer_.data() + pos_;
    const char* stop = buffer_.data() + end_;
    const char* eol = std::find_if(begin, stop, [](char c) { return c == '\n' || c == '\r'; });
    line.append(begin, eol);
    pos_ = static_cast<size_t>(eol - buffer_.data());
    if (eol != stop) {
      skip_lf_ = *eol == '\r';
      ++pos_;
      break;
    }
  }
  ++line_;
  if (line_ == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
  return true;
}

bool CsvReader::next(CsvRow& row) {
  std::string line;
  do {
    if (!next_line(line)) return false;
  } while (line.empty());
  row.line = line_;
  row.fields.assign(1, std::string());
  row.error.clear();
  bool in_quotes = false;
  for (;;) {
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      std::string& field = row.fields.back();
      if (in_quotes) {
        if (c != '"') {
          field += c;
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';  // "" inside quotes is one quote
          ++i;
        } else {
          in_quotes = false;
        }
      } else if (c == delimiter_) {
        row.fields.emplace_back();
      } else if (quoting_ && c == '"' && field.empty()) {
        in_quotes = true;
      } else {
        field += c;  // a quote inside an unquoted field is kept, as Python's csv module does
      }
    }
    if (!in_quotes) return true;
    if (!next_line(line)) {
      row.error = "a quoted field opened on this line never closes";
      return true;
    }
    row.fields.back() += '\n';  // the quoted field spans lines
  }
}

}  // namespace btadapter::data
