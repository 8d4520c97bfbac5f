#pragma once
/// Decoding the sampled frames of one video.
///
///   VideoReader reader("clip.mp4");                        // throws VideoError when missing/corrupt
///   DecodedFrames d = reader.read_sampled([](int64_t n) { return uniform_sample_test(n, 8); });
///   d.frames;                                              // uint8 [8,H,W,3] RGB
///
/// A "video" is any of: a file FFmpeg can read (through OpenCV's FFmpeg backend), a folder of frame
/// images (`000001.jpg`, ...; sorted by name, numbers compared as numbers), or a single image file
/// (one frame; sampling then repeats it).
///
/// Only the needed frames are decoded. For each wanted frame the reader either decodes forward with
/// grab() (cheap per frame, exact by construction) or seeks; it seeks when the frame lies at least
/// `seek_min_gap` frames past the decoder's position. After a seek it checks that the decoder really
/// sits on frame k (H.264 seeks land on a keyframe and decode forward; a stream whose timestamps do
/// not map to frame numbers fails the check) and otherwise re-decodes forward from the start, so the
/// frame returned is always the k-th frame in presentation order.
///
/// Frame counts: the container's count is used when positive (fast). When it is missing, or too high
/// (a truncated file: a frame before the claimed end cannot be decoded), the frames are counted by
/// decoding and the indices are chosen again for the true count (`read_sampled`). A count that is too
/// low is not detected: the tail is then never sampled (as with decord). Set
/// `trust_frame_count(false)` to always count by decoding.
///
/// Errors: VideoError with kind kMissing (no such path) or kCorrupt (empty file, not a video, no
/// decodable frame, frame size changing mid-stream), naming the path. FFmpeg may print its own
/// diagnostics for corrupt files on stderr; set OPENCV_FFMPEG_LOGLEVEL=-8 to silence them.
///
/// Thread safety: one VideoReader per thread; different readers run in parallel freely. Each reader
/// lets FFmpeg pick its decoder thread count (OpenCV 4.6 offers no per-capture setting).

#include "btadapter/config/enum_names.h"
#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace btadapter::data {

enum class VideoErrorKind {
  kMissing,  ///< the path does not exist
  kCorrupt,  ///< exists but nothing usable can be decoded
};

/// A video that cannot be used. what() reads "<kind> video '<path>': <reason>".
class VideoError : public std::runtime_error {
 public:
  VideoError(VideoErrorKind kind, const std::string& path, const std::string& reason);
  VideoErrorKind kind() const { return kind_; }
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  VideoErrorKind kind_;
  std::string path_;
  std::string reason_;
};

struct VideoReaderOptions {
  /// Seek instead of decoding forward when the next wanted frame is at least this many frames past
  /// the decoder position; default 64 (bench/decode.cpp: on 10 s 360p H.264 clips decoding forward
  /// wins below about two keyframe intervals). 0 seeks for every frame; INT64_MAX never seeks.
  TORCH_ARG(int64_t, seek_min_gap) = 64;
  /// Use the container's frame count when it is positive; default true. false: always count frames
  /// by decoding the whole stream once (exact, about one full decode slower).
  TORCH_ARG(bool, trust_frame_count) = true;
};

/// The result of a sampled read.
struct DecodedFrames {
  torch::Tensor frames;          ///< uint8 [K,H,W,3] RGB, one per chosen index, in the chosen order
  std::vector<int64_t> indices;  ///< the K frame indices that were read
  int64_t num_frames = 0;        ///< the frame count the indices were chosen for
  bool count_corrected = false;  ///< the container's count was wrong; frames were counted by decoding
};

/// Chooses the frame indices to read for a video of n frames (e.g. wraps uniform_sample_*).
using FrameChooser = std::function<std::vector<int64_t>(int64_t num_frames)>;

class VideoReader {
 public:
  /// Opens the video; throws VideoError when it is missing or cannot be opened.
  explicit VideoReader(const std::string& path, VideoReaderOptions options = {});
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const std::string& path() const;
  /// The frame count (>= 1): the container's when trusted and positive, else counted by decoding.
  int64_t num_frames();
  /// Chooses indices with `choose(num_frames())` and decodes them. If the count proves too high, the
  /// true count is found by decoding and `choose` is called once more with it.
  DecodedFrames read_sampled(const FrameChooser& choose);
  /// Decodes explicit frame indices (each in [0, num_frames()), any order, repeats allowed): uint8
  /// [K,H,W,3] RGB. Throws VideoError when a frame is past the real end of the stream.
  torch::Tensor read(const std::vector<int64_t>& indices);
  /// Seeks tried and grab() calls made so far (decoding work; for benchmarks and tests).
  int64_t seeks() const;
  int64_t grabs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True for names ending in an image extension (.jpg .jpeg .png .bmp .webp .tif .tiff, any case).
bool is_image_file(const std::string& path);

}  // namespace btadapter::data

namespace btadapter {

template <>
struct EnumNames<data::VideoErrorKind> {
  static constexpr const char* kWhat = "video error kind";
  static constexpr std::array<std::pair<data::VideoErrorKind, const char*>, 2> kNames{{
      {data::VideoErrorKind::kMissing, "missing"},
      {data::VideoErrorKind::kCorrupt, "corrupt"}}};
};

}  // namespace btadapter
