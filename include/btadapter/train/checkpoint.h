#pragma once
/// Training checkpoints: everything an exact resume needs, written atomically.
///
/// A checkpoint holds the trainable parameters (by canonical name; the frozen CLIP is not stored),
/// AdamW's per-parameter state (exp_avg, exp_avg_sq, step), the progress (optimizer step = schedule
/// position, epoch, samples seen, world size), the data loader's opaque position (JSON), the torch RNG
/// states of every rank (CPU generator and each CUDA device's), and the resolved config (YAML).
///
/// File: `<dir>/checkpoint-<step, 8 digits>.pt`, a tensor map plus string metadata serialised with
/// torch::pickle_save (torch.load reads it in Python: a tuple (tensors dict, metadata dict)); tensor
/// names "param/<name>", "optim/<name>/{exp_avg,exp_avg_sq,step}", "rng/<rank>/cpu",
/// "rng/<rank>/cuda<i>"; metadata "format" = "btadapter-checkpoint", "version" = "1", "progress"
/// (JSON), "loader_state" (JSON), "config" (YAML). The file is written to "<name>.tmp.<pid>", synced,
/// then renamed: a run killed mid-write leaves the previous checkpoint intact, and the temp file is
/// never mistaken for a checkpoint. A truncated or corrupt file fails to read and load_latest() falls
/// back to the next older one.
///
/// Example (rank 0 saves; every rank contributes its RNG state):
///   auto rng = train::gather_rng_states(*group);
///   if (group->rank() == 0) manager.save(train::capture_checkpoint(trainable, *optimizer, progress, rng));
///   ...
///   if (auto latest = manager.load_latest(&skipped)) {
///     train::restore_checkpoint(latest->checkpoint, trainable, *optimizer);
///     train::restore_rng_state(latest->checkpoint.rng.at(rank));
///   }
///
/// Thread safety: free functions over the caller's objects; CheckpointManager is stateless apart from
/// its options (one writer per directory).

#include <torch/arg.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "btadapter/train/optimizer.h"
#include "btadapter/train/rng_state.h"

namespace btadapter::train {

/// Where training stands.
struct TrainingProgress {
  int64_t step = 0;                  ///< optimizer steps completed (the schedule resumes at factor(step))
  int64_t epoch = 0;                 ///< epoch of the next step
  int64_t samples_seen = 0;          ///< clips consumed over all ranks
  int64_t world_size = 1;            ///< ranks of the run that wrote it
  std::string loader_state = "{}";   ///< opaque JSON position from the data loader
  std::string config_yaml;           ///< resolved TrainConfig (train_config_to_yaml)
};

/// A checkpoint in memory; every tensor is a CPU copy.
struct Checkpoint {
  TrainingProgress progress;
  std::map<std::string, torch::Tensor> params;     ///< trainable parameter values by name
  std::map<std::string, torch::Tensor> optimizer;  ///< "<name>/exp_avg", "<name>/exp_avg_sq", "<name>/step"
  std::vector<RngState> rng;                        ///< index = rank
};

/// Copies the trainable parameters and their AdamW state (parameters never stepped have none).
Checkpoint capture_checkpoint(const NamedTensors& trainable, const torch::optim::AdamW& optimizer,
                              TrainingProgress progress, std::vector<RngState> rng);

/// Loads parameters and AdamW state into the live objects. The names and shapes must match exactly:
/// a missing, extra or reshaped parameter raises c10::Error naming it (nothing is changed then).
/// RNG states are restored separately (restore_rng_state), since each rank takes its own.
void restore_checkpoint(const Checkpoint& checkpoint, const NamedTensors& trainable,
                        torch::optim::AdamW& optimizer);

/// Writes atomically (see the file comment).
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);

/// Reads a checkpoint; throws c10::Error naming the file when it is unreadable, truncated or not a
/// btadapter checkpoint.
Checkpoint read_checkpoint(const std::string& path);

struct CheckpointManagerOptions {
  explicit CheckpointManagerOptions(std::string directory) : directory_(std::move(directory)) {}
  /// Folder holding the checkpoints (created on the first save); required.
  TORCH_ARG(std::string, directory);
  /// How many checkpoints to keep; default 3.
  TORCH_ARG(int64_t, keep_last) = 3;
};

struct LoadedCheckpoint {
  std::string path;
  Checkpoint checkpoint;
};

/// Names, rotates and finds checkpoints in one directory.
class CheckpointManager {
 public:
  explicit CheckpointManager(CheckpointManagerOptions options);

  /// Writes checkpoint-<step>.pt, then deletes the oldest beyond keep_last. Returns the path.
  std::string save(const Checkpoint& checkpoint) const;

  /// Checkpoint files by step, oldest first (temp files and other names excluded).
  std::vector<std::string> list() const;

  /// The newest checkpoint that reads back, or nullopt when there is none. Files that fail to read are
  /// skipped and, when `skipped` is given, reported there as "<path>: <reason>".
  std::optional<LoadedCheckpoint> load_latest(std::vector<std::string>* skipped = nullptr) const;

  /// "checkpoint-00000042.pt".
  static std::string file_name(int64_t step);

 private:
  CheckpointManagerOptions options_;
};

}  // namespace btadapter::train
