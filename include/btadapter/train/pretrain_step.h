#pragma once
/// One optimizer step of BT-Adapter pretraining (paper 3.3, reference.md 6), on one rank of a
/// data-parallel job:
///
///   tube masks (rank-deterministic, below) -> masked encode_video -> text features (frozen tower under
///   NoGradGuard, or the text-feature cache; with autograd when CLIP trains) -> gather video, text and
///   MBCA features over ranks (dist/gather.h) -> VTC + MBCA + MBTA (loss/pretrain_loss.h) -> backward ->
///   bucketed gradient all-reduce (wait, then average) -> clip the global gradient norm -> AdamW with
///   per-group learning rates = peak x schedule factor(step).
///
/// Modes: the branch trains in training mode; a frozen CLIP tower (vision or text) is put in eval mode
/// and runs without autograd (the model's NoGradGuard), so it stores no activations and gets no
/// gradients or optimizer state. Only the trainable parameters enter the optimizer and the reducer.
///
/// Terms whose weight is 0 are not computed (MBCA and MBTA also need adapter depth > 0), so an
/// image-text CLIP stage (depth 0, T = 1, train_clip) runs VTC alone.
///
/// Masks: sample k of the batch gets the tube mask drawn from a CPU generator seeded with
/// DataRng::mix({seed, step, sample_ids[k]}), so a sample's mask depends only on the run seed, the step
/// and the sample's identity (its dataset index), never on the rank, the world size or its position in
/// the batch: one process with batch 8 and two with batch 4 draw the same masks for the same samples.
/// (Drop path, when model.adapter.drop_path > 0, draws from torch's global generator, seeded per rank.)
///
/// A step whose gradient norm is not finite is skipped (no parameter or optimizer-state change) and
/// reported; every rank sees the same averaged gradients, so all ranks skip together.
///
/// Thread safety: one thread drives a PretrainStep (it issues the collectives of its process group).

#include <torch/arg.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "btadapter/dist/gather.h"
#include "btadapter/dist/gradient_reducer.h"
#include "btadapter/dist/process_group.h"
#include "btadapter/loss/pretrain_loss.h"
#include "btadapter/model/video_text_model.h"
#include "btadapter/train/lr_schedule.h"
#include "btadapter/train/optimizer.h"
#include "btadapter/train/text_feature_cache.h"
#include "btadapter/train/train_config.h"

namespace btadapter::train {

/// Everything a step needs besides the model and the process group.
struct PretrainStepOptions {
  PretrainStepOptions(ParamGroupOptions param_groups, WarmupCosineOptions schedule)
      : param_groups_(std::move(param_groups)), schedule_(std::move(schedule)) {}

  /// Peak learning rate, weight decay and lr_mult rules; required.
  TORCH_ARG(ParamGroupOptions, param_groups);
  /// Learning-rate schedule (iterations per epoch etc.); required.
  TORCH_ARG(WarmupCosineOptions, schedule);
  /// Loss weights and logit scale; default the official 1 : 0.1 : 0.1, scale 100.
  TORCH_ARG(loss::PretrainLossOptions, loss) = {};
  /// Backward of the cross-rank feature gather; default kSum (equals single-process training).
  TORCH_ARG(dist::GatherMode, gather) = dist::GatherMode::kSum;
  /// AdamW betas; default (0.9, 0.98).
  TORCH_ARG(double, beta1) = 0.9;
  TORCH_ARG(double, beta2) = 0.98;
  /// AdamW epsilon; default 1e-8.
  TORCH_ARG(double, eps) = 1e-8;
  /// Max global L2 gradient norm, 0 = no clipping; default 5.
  TORCH_ARG(double, grad_clip) = 5.0;
  /// Seed of the tube masks; default 0.
  TORCH_ARG(uint64_t, mask_seed) = 0;
  /// Gradient all-reduce buckets and overlap with backward; default dist's defaults.
  TORCH_ARG(dist::GradientReducerOptions, reducer) = {};
  /// Bound of the frozen text-feature cache in bytes, 0 = no cache; default 0.
  TORCH_ARG(int64_t, text_cache_bytes) = 0;
  /// Autocast dtype for the forward pass on CUDA (kBFloat16), or nullopt for fp32; default fp32.
  TORCH_ARG(std::optional<torch::Dtype>, autocast) = std::nullopt;
  /// Wait for the GPU at each phase boundary so that StepResult::timings measure device time (slows a
  /// CUDA step a little; on CPU the timings are exact without it and this does nothing).
  TORCH_ARG(bool, synchronize_timings) = false;
};

/// The options a TrainConfig asks for; `iters_per_epoch` (optimizer steps per epoch) sizes the schedule.
PretrainStepOptions pretrain_step_options(const TrainConfig& config, int64_t iters_per_epoch);

/// One rank's share of a global batch.
struct StepInputs {
  torch::Tensor video;                ///< float [B, T, 3, H, W], on the model's device
  torch::Tensor text_ids;             ///< int64 [B, L] (any device)
  std::vector<std::string> captions;  ///< B captions: the text-cache keys (may be empty without a cache)
  torch::Tensor sample_ids;           ///< int64 [B]: the samples' identities (dataset indices), for the masks
};

/// Wall-clock seconds of one step's phases (host clocks: on CUDA, device time only with
/// PretrainStepOptions::synchronize_timings).
struct StepTimings {
  double vision_forward = 0;  ///< frozen CLIP layers and the branch levels, interleaved
  double text_forward = 0;    ///< text tower (or the text cache)
  double heads_and_loss = 0;  ///< MBCA/MBTA projections, feature gathers, the three losses
  double backward = 0;
  double gradient_sync = 0;   ///< bucketed all-reduce (waits for buckets started during backward)
  double optimizer = 0;       ///< gradient clipping, learning rates, AdamW
};

/// What one step did; losses are averaged over ranks (the contrastive terms are equal on every rank).
struct StepResult {
  double loss = 0;       ///< total
  double vtc = 0;        ///< weighted terms as they enter the total (0 when not computed)
  double mbca = 0;
  double mbta = 0;
  double grad_norm = 0;  ///< global L2 norm of the averaged gradients, before clipping
  double lr = 0;         ///< base learning rate of this step (optim.lr x schedule factor)
  bool applied = true;   ///< false: non-finite gradient norm, the update was skipped
  StepTimings timings;
};

class PretrainStep {
 public:
  /// Builds the parameter groups over the model's trainable parameters, AdamW, the gradient reducer
  /// (a no-op in a world of one) and the text cache. The model must already be on its device.
  PretrainStep(VideoTextModel model, PretrainStepOptions options, std::shared_ptr<dist::ProcessGroup> group);
  ~PretrainStep();
  PretrainStep(const PretrainStep&) = delete;
  PretrainStep& operator=(const PretrainStep&) = delete;

  /// Runs optimizer step `step` (0-based; selects the schedule factor and the masks).
  StepResult run(const StepInputs& inputs, int64_t step);

  const NamedTensors& trainable() const { return trainable_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  torch::optim::AdamW& optimizer() { return *optimizer_; }
  const WarmupCosineSchedule& schedule() const { return schedule_; }
  /// Null when the cache is off.
  TextFeatureCache* text_cache() { return text_cache_.get(); }

 private:
  struct Features;
  class PhaseClock;
  Features forward(const StepInputs& inputs, int64_t step, PhaseClock& clock, StepTimings& timings);
  torch::Tensor text_features(const StepInputs& inputs);

  VideoTextModel model_;
  PretrainStepOptions options_;
  std::shared_ptr<dist::ProcessGroup> group_;
  NamedTensors trainable_;
  std::vector<torch::Tensor> trainable_list_;
  std::vector<ParamGroup> groups_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<dist::GradientReducer> reducer_;
  WarmupCosineSchedule schedule_;
  std::unique_ptr<TextFeatureCache> text_cache_;
};

/// The masks of one batch (see the file comment): `sample_ids` int64 [B] on the CPU; a CPU TubeMask.
TubeMask rank_independent_masks(const TubeMaskGenerator& generator, const torch::Tensor& sample_ids,
                                int64_t frames, uint64_t seed, int64_t step);

}  // namespace btadapter::train
