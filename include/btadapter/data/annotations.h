#pragma once
/// Annotation files, as users download them, turned into (video path, caption, label) samples.
///
///   Annotations a = read_annotations("results_2M_train.csv", "webvid", AnnotationOptions().root("/data/webvid"));
///   a.samples[0].video;    // "/data/webvid/027701_027750/1053841541.mp4"
///   a.samples[0].caption;  // "Travel blogger shoot a story on top of mountains."
///
/// One registry maps the FORMAT names that every tool accepts (`--format`) to readers:
///
/// | format           | file (layout)                                                   | video path                        |
/// |------------------|-----------------------------------------------------------------|-----------------------------------|
/// | webvid           | WebVid-2M CSV `videoid,name,page_idx,page_dir,duration,contentUrl` | root/page_dir/videoid.mp4      |
/// | webvid10m        | WebVid-10M CSV `videoid,contentUrl,duration,page_dir,name`      | root/page_dir/videoid.mp4         |
/// | msrvtt-json      | `{"video7020.mp4": ["sentence", ...]}` (test_JSFUSION.json, train_9k.json); one sample per sentence | root/key |
/// | msrvtt-csv       | CLIP4Clip `key,vid_key,video_id,sentence` (MSRVTT_JSFUSION_test.csv) | root/video_id.mp4            |
/// | vindlu-json      | VINDLU/UMT list `[{"video": "x.mp4", "caption": "..." or [...]}]`; one sample per caption | root/video |
/// | paragraph-json   | the same list with caption lists joined by " " (ActivityNet val_1, VINDLU DiDeMo); alias anet-json | root/video, or the frame folder root/<video without extension> |
/// | didemo-json      | official DiDeMo `{"file": [sentences]}`, joined by " "           | root/key                          |
/// | lsmdc-json       | official LSMDC `{"video path": "text"}`                          | root/key (root may be empty)      |
/// | lsmdc-csv        | LSMDC16 TSV `clip_id  start  end  start  end  sentence`          | root/<movie>/clip_id.avi (movie = clip_id up to its last '_') |
/// | k400             | `path label` (space, 0-based) list                               | root/path                         |
/// | ucf101, hmdb51   | `path<TAB>label` (1-based, classInd style) list                  | root/path                         |
/// | jsonl            | generic: one `{"video": ..., "caption": ..., "id"?: ..., "label"?: ...}` per line | root/video       |
/// | csv              | generic: header with columns `video`, `caption` (optional `id`, `label`), RFC 4180 quoting | root/video |
///
/// Paths: an absolute name ignores root; a name without extension gets ".mp4" unless root/name is a
/// folder (a frame folder), as the official DecordInit does. Captions are stripped of surrounding
/// whitespace. Labels are stored 0-based. `class_names` (one per line) is read for any format when
/// given, and labels must then lie below its size.
///
/// Malformed rows (too few columns, empty required fields, a JSON value of the wrong type, a label that
/// is not an integer): by default a c10::Error naming the file, the line or entry, and what was
/// expected; with skip_bad_rows(true) they are skipped and listed in Annotations::bad_rows. A file
/// that cannot be opened or parsed at all is always an error.
///
/// Thread safety: reading is pure; the registry is guarded by a mutex.

#include <torch/arg.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace btadapter::data {

/// One (video, text) item.
struct VideoTextSample {
  std::string video;    ///< path of the video file, frame folder or image
  std::string caption;  ///< text (paragraphs joined with " "); empty in recognition lists
  int64_t label = -1;   ///< 0-based class for recognition lists; -1 otherwise
  std::string id;       ///< the video as named in the file (videoid, key, list path)
  int64_t row = 0;      ///< 1-based line (text formats) or entry (JSON formats) it came from
};

/// A row that was skipped.
struct BadRow {
  int64_t row = 0;     ///< 1-based line or entry
  std::string reason;  ///< full message, naming the file and the row
};

struct Annotations {
  std::string path;    ///< the annotation file
  std::string format;  ///< the format name it was read with
  std::vector<VideoTextSample> samples;
  std::vector<BadRow> bad_rows;          ///< only with skip_bad_rows
  std::vector<std::string> warnings;     ///< rows kept but worth a word (a last row without its line break)
  std::vector<std::string> class_names;  ///< from AnnotationOptions::class_names, else empty
};

struct AnnotationOptions {
  /// Folder that video names are relative to; default "" (names used as written).
  TORCH_ARG(std::string, root) = "";
  /// Skip and count malformed rows instead of throwing; default false.
  TORCH_ARG(bool, skip_bad_rows) = false;
  /// Class-name file, one name per line (recognition); default "" (none).
  TORCH_ARG(std::string, class_names) = "";
};

/// Reads one annotation format.
class AnnotationReader {
 public:
  virtual ~AnnotationReader() = default;
  virtual Annotations read(const std::string& path, const AnnotationOptions& options) const = 0;
};

using AnnotationReaderFactory = std::function<std::unique_ptr<AnnotationReader>()>;

/// The reader for a format name; throws c10::Error listing the known names when it is unknown.
std::unique_ptr<AnnotationReader> make_annotation_reader(const std::string& format);
/// Every registered format name (aliases included), sorted.
std::vector<std::string> annotation_formats();
/// Adds (or replaces) a format, e.g. for a user's own layout.
void register_annotation_format(const std::string& format, AnnotationReaderFactory factory);
/// make_annotation_reader(format)->read(path, options), with `format` filled in.
Annotations read_annotations(const std::string& path, const std::string& format, const AnnotationOptions& options = {});

/// The path rule above: root joined with name; ".mp4" appended to a name without extension unless
/// root/name is a folder.
std::string resolve_video_path(const std::string& root, const std::string& name);

}  // namespace btadapter::data
