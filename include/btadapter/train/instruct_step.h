#pragma once
/// One optimizer step of video instruction tuning (issue 15; official `llava_base/bt_adapter/train/
/// train.py` with tune_mm_mlp_adapter and the frozen LLM), on one rank of a data-parallel job:
///
///   features [B,T,P+1,W] -> VideoTower::train_video_tokens (the official training-time build,
///   training=True: CLIP layers L-4..L-2 frozen, adapter levels 0..2) -> mm_projector -> splice into
///   the LLM's token embeddings -> frozen LLaMA -> causal LM cross entropy on the labels != -100 ->
///   backward (through the LLM: its parameters get no gradient) -> bucketed all-reduce -> clip -> AdamW.
///
/// Trainable: the btadapter_* parameters and mm_projector (the official choice). The LLM's parameters
/// have requires_grad false; the `<vid_start>`/`<vid_end>` embedding rows the official run also tunes
/// (quirk 13) stay frozen here.
///
/// Loss normalisation: the sum of the token losses over the GLOBAL batch divided by its count of
/// label tokens (one all-reduce of the count before backward), so 2 processes with batch B equal one
/// process with batch 2B and one sample equals the official per-sample mean (the fixture's train.loss).
/// (The official DDP run averages per-rank means instead; with equal token counts they agree.)
///
/// Thread safety: one thread drives an InstructStep (it issues its process group's collectives).

#include "btadapter/chat/video_tower.h"
#include "btadapter/chat/video_tower_weights.h"
#include "btadapter/dist/gradient_reducer.h"
#include "btadapter/dist/process_group.h"
#include "btadapter/llm/llama.h"
#include "btadapter/llm/video_splice.h"
#include "btadapter/train/instruct_data.h"
#include "btadapter/train/lr_schedule.h"
#include "btadapter/train/optimizer.h"

#include <torch/optim/adamw.h>

#include <memory>
#include <string>

namespace btadapter::train {

/// The three parts of the video LLM and the video token ids.
struct InstructModel {
  chat::VideoTower tower{nullptr};
  chat::Projector projector;
  llm::LlamaForCausalLM llm{nullptr};
  llm::VideoSpliceOptions splice{0, 0, 0};
};

/// The trainable parameters under the official names: model.vision_tower.btadapter_* and
/// model.mm_projector.{weight,bias}; sets requires_grad on them.
NamedTensors instruct_trainable(InstructModel& model);

/// Sum and count of the token losses of one batch.
struct TokenLoss {
  torch::Tensor sum;   ///< float scalar, differentiable in the trainable parameters
  int64_t tokens = 0;  ///< labels != -100 after the shift
};

/// The forward of the step (see the file comment) on features [B,T,P+1,W], ids and labels [B,N].
TokenLoss instruct_token_loss(InstructModel& model, const torch::Tensor& features, const torch::Tensor& input_ids,
                              const torch::Tensor& labels);

struct InstructStepOptions {
  explicit InstructStepOptions(WarmupCosineOptions schedule) : schedule_(std::move(schedule)) {}
  /// Learning-rate schedule; required.
  TORCH_ARG(WarmupCosineOptions, schedule);
  /// Peak learning rate; default 2e-5 (official scripts/train.sh).
  TORCH_ARG(double, lr) = 2e-5;
  /// Weight decay; default 0 (official).
  TORCH_ARG(double, weight_decay) = 0.0;
  /// AdamW betas and epsilon; default HF Trainer's (0.9, 0.999), 1e-8.
  TORCH_ARG(double, beta1) = 0.9;
  TORCH_ARG(double, beta2) = 0.999;
  TORCH_ARG(double, eps) = 1e-8;
  /// Max global gradient norm, 0 = no clipping; default 1 (HF Trainer's max_grad_norm).
  TORCH_ARG(double, grad_clip) = 1.0;
  TORCH_ARG(dist::GradientReducerOptions, reducer) = {};
};

struct InstructStepResult {
  double loss = 0;       ///< global token-mean loss of the step
  int64_t tokens = 0;    ///< label tokens in the global batch
  double grad_norm = 0;  ///< before clipping
  double lr = 0;
  bool applied = true;   ///< false: non-finite gradient norm (or no label token), update skipped
};

class InstructStep {
 public:
  /// The model must be on its device; the tower is put in training mode, the LLM in eval mode.
  InstructStep(InstructModel model, InstructStepOptions options, std::shared_ptr<dist::ProcessGroup> group);
  ~InstructStep();
  InstructStep(const InstructStep&) = delete;
  InstructStep& operator=(const InstructStep&) = delete;

  /// Optimizer step `step` (0-based, selects the learning rate) on this rank's share of the batch.
  InstructStepResult run(const InstructionBatch& batch, int64_t step);

  const NamedTensors& trainable() const { return trainable_; }
  torch::optim::AdamW& optimizer() { return *optimizer_; }
  InstructModel& model() { return model_; }

 private:
  InstructModel model_;
  InstructStepOptions options_;
  std::shared_ptr<dist::ProcessGroup> group_;
  NamedTensors trainable_;
  std::vector<torch::Tensor> params_;
  std::vector<ParamGroup> groups_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<dist::GradientReducer> reducer_;
  WarmupCosineSchedule schedule_;
};

/// Writes what the run trained, loadable without the training config: `adapter_path` (safetensors,
/// model.vision_tower.btadapter_* and balance2: chat::load_video_tower's adapter file) and
/// `projector_path` (model.mm_projector.*: chat::load_projector). Both atomic.
void save_instruct_weights(const InstructModel& model, const std::string& adapter_path,
                           const std::string& projector_path);

}  // namespace btadapter::train
