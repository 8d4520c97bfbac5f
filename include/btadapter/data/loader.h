#pragma once
/// The parallel video-text loader: worker threads decode clips ahead of the model into a bounded
/// queue of batches, handed out in a fixed, seedable order, sharded across ranks and resumable.
///
///   auto dataset = std::make_shared<const VideoTextDataset>(annotations, ClipOptions(8, 224).train(true));
///   VideoTextLoader loader(dataset, LoaderOptions(52).num_workers(8).rank(r).world_size(w).seed(s),
///                          checkpoint_has_state ? std::optional(saved_state) : std::nullopt);
///   while (auto batch = loader.next()) {          // one epoch; nullopt at its end
///     train_step(batch->video, batch->captions);  // float [B,T,3,H,W], CLIP-normalised
///     if (time_to_save) save(loader_state_to_json(loader.state()));
///   }
///   // the next loop runs the next epoch
///
/// Determinism: the batches (order, sampled frames, crop boxes, replacements) depend only on the
/// seed, epoch, rank and world size, never on thread timing: every random choice for dataset sample i
/// in epoch e comes from DataRng(mix(seed, e, i, attempt)).
///
/// Bad videos (missing, truncated, undecodable), by policy:
///   kReplace (training): logged once per video, counted, and replaced by sample
///     mix(seed, e, i, attempt) % N (up to max_replacements tries, then an error). Batch::num_replaced
///     and stats() report them.
///   kError (evaluation default): next() throws the VideoError naming the file.
///   kSkip (evaluation opt-in): the item is left out of its batch, listed in Batch::skipped and in
///     skipped(); a batch whose items were all skipped is not returned.
///
/// Errors in workers (any exception) stop the pipeline and are re-thrown by next() on the calling
/// thread; nothing waits forever. Memory is bounded by prefetch_batches batches in flight; decoders are
/// opened and closed per video, so nothing grows per video.
///
/// Thread safety: a loader is used from one thread (the trainer's); its workers are internal.

#include "btadapter/config/enum_names.h"
#include "btadapter/data/dataset.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace btadapter::data {

enum class BadVideoPolicy {
  kReplace,  ///< replace by another sample, count it (training)
  kError,    ///< throw (evaluation default)
  kSkip,     ///< leave out and report (evaluation, opt-in)
};

/// Where the loader stands; store it in checkpoints to resume mid-epoch.
struct LoaderState {
  int64_t epoch = 0;     ///< the epoch in progress
  int64_t position = 0;  ///< samples of the epoch's order consumed by all ranks together (see sharding.h)
  uint64_t seed = 0;     ///< the seed of every random choice
  bool operator==(const LoaderState& o) const { return epoch == o.epoch && position == o.position && seed == o.seed; }
};
/// {"epoch": e, "position": p, "seed": "s"} (the seed as a decimal string: JSON numbers lose 64-bit values).
std::string loader_state_to_json(const LoaderState& state);
/// Parses loader_state_to_json's output; throws naming the missing or mistyped key.
LoaderState loader_state_from_json(const std::string& json_text);

struct LoaderOptions {
  explicit LoaderOptions(int64_t batch_size) : batch_size_(batch_size) {}
  /// Samples per batch on this rank.
  TORCH_ARG(int64_t, batch_size);
  /// Decoding threads; default 2.
  TORCH_ARG(int64_t, num_workers) = 2;
  /// Batches decoded ahead of the consumer (the bound on memory); default 2.
  TORCH_ARG(int64_t, prefetch_batches) = 2;
  /// Shuffle each epoch; default true (set false for evaluation).
  TORCH_ARG(bool, shuffle) = true;
  /// Seed used when no LoaderState is given; default 0.
  TORCH_ARG(uint64_t, seed) = 0;
  /// This process's rank and the number of ranks; default 0 of 1.
  TORCH_ARG(int64_t, rank) = 0;
  TORCH_ARG(int64_t, world_size) = 1;
  /// Only full, equally many batches on every rank; default true (set false for evaluation).
  TORCH_ARG(bool, drop_last) = true;
  /// What a bad video does; default kReplace (training).
  TORCH_ARG(BadVideoPolicy, bad_video) = BadVideoPolicy::kReplace;
  /// Replacement tries per item before giving up with an error; default 100.
  TORCH_ARG(int64_t, max_replacements) = 100;
  /// Receives one line per newly seen bad video; default: written to stderr.
  TORCH_ARG(std::function<void(const std::string&)>, log) = nullptr;
};

/// An item left out under kSkip.
struct SkippedVideo {
  int64_t index = 0;   ///< dataset index
  std::string video;   ///< path
  std::string reason;  ///< VideoError::what()
};

struct Batch {
  torch::Tensor video;                ///< float32 [B,T,3,H,W], CLIP-normalised
  std::vector<std::string> captions;  ///< B captions (not tokenized)
  torch::Tensor indices;              ///< int64 [B]: dataset index of each item (after replacement)
  std::vector<std::string> ids;       ///< B video ids as written in the annotations
  torch::Tensor labels;               ///< int64 [B]: class labels, -1 when the annotations have none
  int64_t num_replaced = 0;           ///< items of this batch that replaced a bad video
  std::vector<SkippedVideo> skipped;  ///< items left out of this batch (kSkip)
};

/// Running totals since construction.
struct LoaderStats {
  int64_t loaded = 0;           ///< clips decoded into batches
  int64_t replaced = 0;         ///< replacement events (kReplace)
  int64_t skipped = 0;          ///< items left out (kSkip)
  int64_t missing = 0;          ///< distinct missing videos seen
  int64_t corrupt = 0;          ///< distinct undecodable videos seen
  int64_t count_corrected = 0;  ///< clips whose container frame count was wrong
  int64_t too_short = 0;        ///< distinct videos shorter than the clip (too_short_reason; still used)
};

class VideoTextLoader {
 public:
  /// `resume`: continue from a stored state (its seed wins over options.seed()); otherwise epoch 0,
  /// position 0, options.seed().
  VideoTextLoader(std::shared_ptr<const VideoTextDataset> dataset, LoaderOptions options,
                  std::optional<LoaderState> resume = std::nullopt);
  ~VideoTextLoader();
  VideoTextLoader(const VideoTextLoader&) = delete;
  VideoTextLoader& operator=(const VideoTextLoader&) = delete;

  /// The next batch of the current epoch, or nullopt when the epoch is over (the state then moves to
  /// the next epoch at position 0, which the next call starts). Re-throws worker errors.
  std::optional<Batch> next();
  /// The state after the last batch returned (what to checkpoint).
  LoaderState state() const;
  /// Batches this rank gets in the current epoch from its start position, and how many are left.
  int64_t batches_in_epoch() const;
  int64_t batches_left() const;
  LoaderStats stats() const;
  /// Every item left out so far (kSkip), in order.
  std::vector<SkippedVideo> skipped() const;
  const VideoTextDataset& dataset() const { return *dataset_; }

 private:
  class Pipeline;  // one epoch's worker threads and batch queue
  struct Totals;    // stats and bad-video records shared with the workers

  void start_epoch();

  std::shared_ptr<const VideoTextDataset> dataset_;
  LoaderOptions options_;
  LoaderState state_;
  int64_t epoch_start_position_ = 0;
  int64_t batches_in_epoch_ = 0;
  int64_t batches_done_ = 0;
  std::unique_ptr<Totals> totals_;
  std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace btadapter::data

namespace btadapter {

template <>
struct EnumNames<data::BadVideoPolicy> {
  static constexpr const char* kWhat = "bad-video policy";
  static constexpr std::array<std::pair<data::BadVideoPolicy, const char*>, 3> kNames{{
      {data::BadVideoPolicy::kReplace, "replace"},
      {data::BadVideoPolicy::kError, "error"},
      {data::BadVideoPolicy::kSkip, "skip"}}};
};

}  // namespace btadapter
