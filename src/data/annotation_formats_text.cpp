// Readers of the delimited-text annotation formats: WebVid, CLIP4Clip MSR-VTT, LSMDC, K400/UCF/HMDB
// lists and the generic CSV.
#include "annotation_builder.h"

#include "btadapter/data/csv.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <optional>

namespace btadapter::data::detail {

namespace {

std::string line_of(const CsvRow& row) { return "line " + std::to_string(row.line); }

// A row with a reading error or fewer than `columns` fields is a bad row; true when it can be used.
bool check_columns(const CsvRow& row, size_t columns, const char* layout, AnnotationBuilder& out) {
  if (!row.error.empty()) {
    out.bad_row(row.line, line_of(row), row.error);
    return false;
  }
  if (row.fields.size() < columns) {
    out.bad_row(row.line, line_of(row),
                "expected " + std::to_string(columns) + " columns (" + layout + "), got " + std::to_string(row.fields.size()));
    return false;
  }
  return true;
}

// True when every named field is non-empty; otherwise records a bad row.
bool check_non_empty(const CsvRow& row, std::initializer_list<std::pair<size_t, const char*>> fields,
                     AnnotationBuilder& out) {
  for (const auto& [index, name] : fields) {
    if (strip(row.fields[index]).empty()) {
      out.bad_row(row.line, line_of(row), std::string("empty ") + name);
      return false;
    }
  }
  return true;
}

// A last row without its line break is kept (many tools write files so) but noted: the file may be cut.
void note_unterminated_end(const CsvReader& reader, AnnotationBuilder& out) {
  if (reader.ended_without_line_break()) {
    out.warn("line " + std::to_string(reader.line()),
             "the file ends without a line break after this row (was it cut?); the row was read as it stands");
  }
}

std::optional<int64_t> parse_int(const std::string& text) {
  const std::string s = strip(text);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// WebVid rows, both layouts: the header row (first cell "videoid") is skipped.
void read_webvid(const std::string& path, AnnotationBuilder& out, size_t columns, size_t caption_col,
                 size_t page_dir_col, const char* layout) {
  CsvReader reader(path);
  CsvRow row;
  while (reader.next(row)) {
    if (row.line == 1 && !row.fields.empty() && strip(row.fields[0]) == "videoid") continue;
    if (!check_columns(row, columns, layout, out)) continue;
    if (!check_non_empty(row, {{0, "videoid"}, {caption_col, "caption"}, {page_dir_col, "page_dir"}}, out)) continue;
    const std::string id = strip(row.fields[0]);
    out.add({out.video_path(strip(row.fields[page_dir_col]) + "/" + id + ".mp4"), row.fields[caption_col], -1, id,
             row.line}, line_of(row));
  }
  note_unterminated_end(reader, out);
}

// `path<delim>label` lists; the label is split at the last delimiter so paths may contain it.
void read_label_list(const std::string& path, AnnotationBuilder& out, char delimiter, int64_t offset) {
  CsvReader reader(path, delimiter, /*quoting=*/false);
  CsvRow row;
  const char* layout = delimiter == '\t' ? "path<TAB>label" : "path label";
  while (reader.next(row)) {
    if (!check_columns(row, 2, layout, out)) continue;
    std::string name = row.fields[0];
    for (size_t i = 1; i + 1 < row.fields.size(); ++i) name += delimiter + row.fields[i];
    const auto label = parse_int(row.fields.back());
    if (!label || *label + offset < 0) {
      out.bad_row(row.line, line_of(row), std::string("expected an integer label") + (offset < 0 ? " >= 1" : " >= 0") +
                                              ", got '" + row.fields.back() + "'");
      continue;
    }
    if (!check_non_empty(row, {{0, "path"}}, out)) continue;
    out.add({out.video_path(strip(name)), "", *label + offset, strip(name), row.line}, line_of(row));
  }
  note_unterminated_end(reader, out);
}

}  // namespace

void read_webvid_2m(const std::string& path, AnnotationBuilder& out) {
  read_webvid(path, out, 6, 1, 3, "videoid,name,page_idx,page_dir,duration,contentUrl");
}

void read_webvid_10m(const std::string& path, AnnotationBuilder& out) {
  read_webvid(path, out, 5, 4, 3, "videoid,contentUrl,duration,page_dir,name");
}

void read_msrvtt_csv(const std::string& path, AnnotationBuilder& out) {
  CsvReader reader(path);
  CsvRow row;
  while (reader.next(row)) {
    if (row.line == 1 && !row.fields.empty() && strip(row.fields[0]) == "key") continue;
    if (!check_columns(row, 4, "key,vid_key,video_id,sentence", out)) continue;
    if (!check_non_empty(row, {{2, "video_id"}, {3, "sentence"}}, out)) continue;
    const std::string id = strip(row.fields[2]);
    out.add({out.video_path(id + ".mp4"), row.fields[3], -1, id, row.line}, line_of(row));
  }
  note_unterminated_end(reader, out);
}

void read_lsmdc_csv(const std::string& path, AnnotationBuilder& out) {
  CsvReader reader(path, '\t', /*quoting=*/false);
  CsvRow row;
  while (reader.next(row)) {
    if (!check_columns(row, 6, "clip_id, start, end, start, end, sentence; tab-separated", out)) continue;
    if (!check_non_empty(row, {{0, "clip_id"}, {5, "sentence"}}, out)) continue;
    const std::string id = strip(row.fields[0]);
    // LSMDC keeps clip "<movie>_<time range>" in folder "<movie>".
    const size_t cut = id.rfind('_');
    const std::string movie = cut == std::string::npos ? id : id.substr(0, cut);
    out.add({out.video_path(movie + "/" + id + ".avi"), row.fields[5], -1, id, row.line}, line_of(row));
  }
  note_unterminated_end(reader, out);
}

void read_kinetics_list(const std::string& path, AnnotationBuilder& out) { read_label_list(path, out, ' ', 0); }

void read_ucf_hmdb_list(const std::string& path, AnnotationBuilder& out) { read_label_list(path, out, '\t', -1); }

void read_generic_csv(const std::string& path, AnnotationBuilder& out) {
  CsvReader reader(path);
  CsvRow header;
  TORCH_CHECK(reader.next(header) && header.error.empty(), "csv annotations '", path,
              "': expected a header row naming the columns video,caption[,id,label]");
  std::map<std::string, size_t> column;
  std::string names;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    column[strip(header.fields[i])] = i;
    names += (i ? "," : "") + strip(header.fields[i]);
  }
  TORCH_CHECK(column.count("video") && column.count("caption"), "csv annotations '", path,
              "' line 1: expected a header with columns 'video' and 'caption', got '", names, "'");
  const size_t needed =
      1 + std::max({column["video"], column["caption"], column.count("id") ? column["id"] : 0,
                    column.count("label") ? column["label"] : 0});
  CsvRow row;
  while (reader.next(row)) {
    if (!check_columns(row, needed, "as in the header", out)) continue;
    if (!check_non_empty(row, {{column["video"], "video"}}, out)) continue;
    const std::string video = strip(row.fields[column["video"]]);
    int64_t label = -1;
    if (column.count("label") && !strip(row.fields[column["label"]]).empty()) {
      const auto parsed = parse_int(row.fields[column["label"]]);
      if (!parsed || *parsed < 0) {
        out.bad_row(row.line, line_of(row), "expected a label >= 0, got '" + row.fields[column["label"]] + "'");
        continue;
      }
      label = *parsed;
    }
    const std::string id = column.count("id") ? strip(row.fields[column["id"]]) : video;
    out.add({out.video_path(video), row.fields[column["caption"]], label, id, row.line}, line_of(row));
  }
  note_unterminated_end(reader, out);
}

}  // namespace btadapter::data::detail
