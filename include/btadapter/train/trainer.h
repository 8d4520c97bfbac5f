#pragma once
/// The pretraining job (what `bt_pretrain` runs): a TrainConfig in, a trained model file out.
///
///   auto config = train::load_train_config("configs/webvid.yaml", {"model.clip=/models/clip-vit-l-14"});
///   train::Trainer trainer(config);          // checks inputs, joins the process group, builds everything
///   train::TrainSummary summary = trainer.run();
///
/// One process per GPU (or several CPU processes): rank, world size and rendezvous come from the
/// torchrun / SLURM environment (dist/environment.h); Gloo on CPU, NCCL on CUDA (dist.backend). Every
/// rank builds the same model (parameters are broadcast from rank 0), reads its shard of the data
/// (data/loader.h) and runs PretrainStep (pretrain_step.h); rank 0 writes the files.
///
/// Files under run.output_dir:
///   config.yaml                 the resolved config (every key)
///   train_log.jsonl             one record per run.log_every steps: step, epoch, lr, loss, vtc, mbca, mbta,
///                               grad_norm (means over the interval), data_wait_s, compute_s (mean seconds per
///                               step, averaged over ranks), videos_per_s, replaced (bad videos replaced in
///                               the interval, all ranks), skipped_steps; plus one record per validation
///                               ({"step", "val_t2v_r1", ...})
///   checkpoints/checkpoint-<step>.pt   every checkpoint.every_steps steps and at the end (train/checkpoint.h):
///                               trainable parameters, AdamW state, step, loader position, every rank's RNG
///                               state, the resolved config; the newest checkpoint.keep_last are kept
///   model.safetensors           at the end: the whole model (frozen CLIP included) under canonical names
///                               with its ModelConfig (io/model_file.h), loadable without this config
///
/// Resume: checkpoint.resume "auto" continues from the newest readable checkpoint in
/// output_dir/checkpoints (a fresh start when there is none); a path resumes from that file; "none"
/// refuses to start over a folder that already holds checkpoints. TrainerOptions::require_resume
/// (bt_pretrain --resume) makes a missing checkpoint an error. A resumed run on the same world size
/// continues exactly: N steps + resume + N steps give the same parameters as 2N steps (bit for bit on
/// the CPU, with the text cache off). The frozen CLIP is not in the checkpoint: it is rebuilt from
/// model.clip (or from the seed with model.random_clip), so those must not change between the runs.
///
/// Thread safety: one Trainer per process (it sets torch's global seed and, on CUDA, the current device).

#include <torch/arg.h>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "btadapter/dist/process_group.h"
#include "btadapter/model/video_text_model.h"
#include "btadapter/train/pretrain_step.h"
#include "btadapter/train/retrieval_validation.h"
#include "btadapter/train/train_config.h"

namespace btadapter::train {

/// A stream the trainer writes to but does not own.
using StreamPtr = std::ostream*;

struct TrainerOptions {
  /// Fail when there is no checkpoint to resume from (bt_pretrain --resume); default false.
  TORCH_ARG(bool, require_resume) = false;
  /// The process group; default null: created from the environment per the config's dist section.
  TORCH_ARG(std::shared_ptr<dist::ProcessGroup>, group) = nullptr;
  /// Where rank 0 writes progress and messages; default null: standard error.
  TORCH_ARG(StreamPtr, log) = nullptr;
  /// Validation hook; default nullopt: the retrieval validation of the config's eval section
  /// (make_retrieval_validation). An empty function disables validation.
  TORCH_ARG(std::optional<ValidationHook>, validation) = std::nullopt;
};

/// What a run did (identical on every rank except the file paths, which rank 0 wrote).
struct TrainSummary {
  int64_t start_step = 0;        ///< step the run started from (> 0 after a resume)
  int64_t steps = 0;             ///< optimizer steps completed in total
  int64_t total_steps = 0;       ///< steps the run was configured for
  int64_t steps_per_epoch = 0;   ///< optimizer steps in one epoch
  StepResult last;               ///< the last step's result
  int64_t skipped_steps = 0;     ///< updates skipped for a non-finite gradient norm, this run
  int64_t replaced = 0;          ///< bad videos replaced, this rank, this run
  double seconds = 0;            ///< wall time of the training loop, this run
  double data_wait_s = 0;        ///< time this rank spent waiting for batches, this run
  double max_data_wait_s = 0;    ///< longest single wait for a batch (the first batch excluded)
  double compute_s = 0;          ///< time in the steps themselves
  ValidationScores validation;   ///< the last validation's scores (empty when none ran)
  std::string model_file;        ///< output_dir/model.safetensors
  std::string checkpoint;        ///< the last checkpoint written
};

/// Checks that the files a run reads exist before anything starts (model.clip unless model.random_clip,
/// model.tokenizer.vocab when set, data.annotations, data.video_root, eval.annotations and
/// eval.video_root when eval.annotations is set). Throws ONE c10::Error listing every problem, each with
/// its key, e.g. "model.clip is not set (CLIP weights: ...); data.video_root: no such folder '/data/webvid'".
void check_training_inputs(const TrainConfig& config);

class Trainer {
 public:
  /// Checks the inputs, joins the process group, builds model, tokenizer, data loader, optimizer and
  /// validation, and restores a checkpoint per checkpoint.resume.
  explicit Trainer(TrainConfig config, TrainerOptions options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Trains to the configured end (schedule.epochs, or schedule.max_steps when smaller), writing logs,
  /// checkpoints and the final model file.
  TrainSummary run();

  /// The model being trained (on its device).
  VideoTextModel model() const;
  /// Steps already done (after a resume: the checkpoint's step).
  int64_t step() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace btadapter::train
