#pragma once
/// The instruction-tuning job (what `bt_instruct` runs): a TrainConfig whose `instruct` section names
/// the frozen LLaMA, the CLIP tower, the initial adapter and projector, the VideoChatGPT JSON and the
/// feature folder; the optim / schedule / run / dist / checkpoint sections and data.batch_size /
/// data.shuffle mean what they mean for bt_pretrain (train/trainer.h).
///
///   auto config = train::load_train_config("configs/videochatgpt.yaml", {"run.output_dir=runs/x"});
///   train::InstructSummary summary = train::run_instruct_training(config);
///
/// One process per rank (torchrun / SLURM environment, dist/environment.h; Gloo on CPU). Every rank
/// loads the same weights. Sample order: epoch e is a permutation drawn from DataRng::mix({seed, e})
/// (identity without data.shuffle); global batch s takes its data.batch_size x world slice, and rank r
/// the r-th data.batch_size of it, so 2 ranks with batch B see exactly what 1 rank with 2B sees, and the
/// position is a function of the step alone (a resume needs nothing else). The last partial global
/// batch of an epoch is dropped.
///
/// Files under run.output_dir (rank 0): config.yaml (resolved), train_log.jsonl (one record per
/// run.log_every steps: step, epoch, lr, loss, tokens, grad_norm, bad_videos, samples_per_s),
/// checkpoints/checkpoint-<step>.pt (train/checkpoint.h: trainable parameters, AdamW state, step, RNG
/// states, config; every checkpoint.every_steps and at the end), and at the end adapter.safetensors +
/// mm_projector.safetensors (save_instruct_weights: what chat::VideoChat loads, with the CLIP and LLM
/// files, without this config). Resume (checkpoint.resume auto / none / path, require_resume) as in
/// train/trainer.h: N steps + resume + N steps give bit-identical weights to 2N steps on the CPU.
///
/// CPU only for now (run.device cuda is refused; bf16 is not wired).
///
/// Thread safety: one call per process (it seeds torch's global generator).

#include "btadapter/dist/process_group.h"
#include "btadapter/train/instruct_step.h"
#include "btadapter/train/train_config.h"
#include "btadapter/train/trainer.h"  // StreamPtr

#include <iosfwd>
#include <memory>
#include <string>

namespace btadapter::train {

struct InstructTrainerOptions {
  /// Fail when there is no checkpoint to resume from (bt_instruct --resume); default false.
  TORCH_ARG(bool, require_resume) = false;
  /// The process group; default null: from the environment.
  TORCH_ARG(std::shared_ptr<dist::ProcessGroup>, group) = nullptr;
  /// Where rank 0 writes progress and messages; default null: standard error.
  TORCH_ARG(StreamPtr, log) = nullptr;
};

struct InstructSummary {
  int64_t start_step = 0;       ///< > 0 after a resume
  int64_t steps = 0;            ///< optimizer steps completed in total
  int64_t steps_per_epoch = 0;
  InstructStepResult last;
  InstructionDatasetStats data;
  int64_t bad_videos = 0;       ///< samples left out of batches (unreadable features), all ranks, this run
  std::string adapter_file;     ///< output_dir/adapter.safetensors
  std::string projector_file;   ///< output_dir/mm_projector.safetensors
  std::string checkpoint;       ///< the last checkpoint written
};

/// Checks the instruct.* inputs exist (one c10::Error listing every problem with its key), then trains.
InstructSummary run_instruct_training(const TrainConfig& config, const InstructTrainerOptions& options = {});

}  // namespace btadapter::train
