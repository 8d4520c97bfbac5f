#include "btadapter/train/pretrain_step.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "btadapter/data/random.h"
#include "btadapter/runtime/autocast.h"

namespace btadapter::train {
namespace {

// Keeps the mask stream apart from the data pipeline's DataRng::mix(seed, epoch, index, ...) keys.
constexpr uint64_t kMaskStream = 0x6d61736b;  // "mask"

torch::Tensor gather_rows(const torch::Tensor& local, dist::ProcessGroup& group, dist::GatherMode mode) {
  if (local.requires_grad()) return dist::gather_with_grad(local, group, mode);
  return torch::cat(dist::all_gather_varying(local, group), 0);
}

bool text_tower_trains(const VideoTextModelImpl& model) {
  for (const auto& p : model.text_backbone->parameters()) {
    if (p.requires_grad()) return true;
  }
  return false;
}

double value_or_zero(const torch::Tensor& t) { return t.defined() ? t.item<double>() : 0.0; }

// Training mode for the branch, eval mode for a frozen CLIP (as the official _freeze_stages leaves it):
// whatever behaves differently in training (dropout, drop path) must not touch the frozen towers.
void enter_training_mode(VideoTextModelImpl& model) {
  model.train();
  if (!model.backbone->clip_trainable()) {
    for (const auto& child : model.backbone->named_children()) {
      if (child.key().rfind("btadapter", 0) != 0) child.value()->eval();
    }
  }
  if (!text_tower_trains(model)) model.text_backbone->eval();
}

}  // namespace

PretrainStepOptions pretrain_step_options(const TrainConfig& config, int64_t iters_per_epoch) {
  const auto& s = config.schedule;
  PretrainStepOptions options(
      ParamGroupOptions(config.optim.lr).weight_decay(config.optim.weight_decay).rules(config.optim.lr_mult),
      WarmupCosineOptions(iters_per_epoch)
          .warmup_epochs(s.warmup_epochs)
          .warmup_start_factor(s.warmup_start_factor)
          .cosine_epochs(s.cosine_epochs)
          .cosine_end_epoch(s.cosine_end_epoch)
          .min_factor(s.min_lr_factor));
  loss::PretrainLossOptions loss;
  loss.vtc_weight = config.loss.vtc_weight;
  loss.mbca_weight = config.loss.mbca_weight;
  loss.mbta_weight = config.loss.mbta_weight;
  loss.logit_scale = 1.0 / config.loss.tau;
  options.loss(loss)
      .gather(dist::gather_mode_from_string(config.loss.gather))
      .beta1(config.optim.betas[0])
      .beta2(config.optim.betas[1])
      .eps(config.optim.eps)
      .grad_clip(config.optim.grad_clip)
      .mask_seed(static_cast<uint64_t>(config.run.seed))
      .reducer(dist::GradientReducerOptions()
                   .bucket_bytes(static_cast<int64_t>(config.dist.bucket_mb * 1024 * 1024))
                   .overlap_with_backward(config.dist.overlap))
      .text_cache_bytes(config.run.text_cache_mb * 1024 * 1024);
  return options;
}

TubeMask rank_independent_masks(const TubeMaskGenerator& generator, const torch::Tensor& sample_ids,
                                int64_t frames, uint64_t seed, int64_t step) {
  TORCH_CHECK(sample_ids.dim() == 1 && sample_ids.numel() > 0 && sample_ids.scalar_type() == torch::kLong,
              "rank_independent_masks: expected sample ids int64 [B] with B > 0, got ", sample_ids.sizes(), " ",
              sample_ids.scalar_type());
  const auto ids = sample_ids.cpu();
  std::vector<torch::Tensor> patterns;
  std::optional<MaskLayout> layout;
  for (int64_t k = 0; k < ids.numel(); ++k) {
    const uint64_t key = data::DataRng::mix(
        {seed, kMaskStream, static_cast<uint64_t>(step), static_cast<uint64_t>(ids[k].item<int64_t>())});
    TubeMask one = generator.generate(1, frames, at::detail::createCPUGenerator(key));
    patterns.push_back(one.pattern());
    layout = one.layout();
  }
  return TubeMask(torch::cat(patterns, 0), frames, *layout);
}

struct PretrainStep::Features {
  loss::PretrainLossInputs loss_inputs;
};

// Seconds since the previous lap; with `synchronize` it first waits for the work queued on the GPU.
class PretrainStep::PhaseClock {
 public:
  explicit PhaseClock(bool synchronize) : synchronize_(synchronize), last_(now()) {}
  double lap() {
    const auto t = now();
    const double seconds = std::chrono::duration<double>(t - last_).count();
    last_ = t;
    return seconds;
  }

 private:
  std::chrono::steady_clock::time_point now() const {
    if (synchronize_) torch::cuda::synchronize();
    return std::chrono::steady_clock::now();
  }
  bool synchronize_;
  std::chrono::steady_clock::time_point last_;
};

PretrainStep::PretrainStep(VideoTextModel model, PretrainStepOptions options,
                           std::shared_ptr<dist::ProcessGroup> group)
    : model_(std::move(model)),
      options_(std::move(options)),
      group_(std::move(group)),
      trainable_(trainable_parameters(*model_)),
      schedule_(options_.schedule()) {
  TORCH_CHECK(group_, "PretrainStep: expected a process group, got null");
  groups_ = build_param_groups(trainable_, options_.param_groups());
  for (const auto& item : trainable_) trainable_list_.push_back(item.value());
  optimizer_ = make_adamw(groups_, {options_.beta1(), options_.beta2()}, options_.eps());
  reducer_ = std::make_unique<dist::GradientReducer>(trainable_list_, group_, options_.reducer());
  if (options_.text_cache_bytes() > 0) {
    TORCH_CHECK(!text_tower_trains(*model_), "run.text_cache_mb > 0 needs a frozen text tower, but model.train_clip "
                "is true (cached features would go stale)");
    text_cache_ = std::make_unique<TextFeatureCache>(TextFeatureCacheOptions().max_bytes(options_.text_cache_bytes()));
  }
}

PretrainStep::~PretrainStep() = default;

torch::Tensor PretrainStep::text_features(const StepInputs& inputs) {
  if (!text_cache_) return model_->encode_text(inputs.text_ids.to(inputs.video.device()));
  TORCH_CHECK(static_cast<int64_t>(inputs.captions.size()) == inputs.text_ids.size(0),
              "PretrainStep: the text cache needs one caption per row of text_ids, got ", inputs.captions.size(),
              " captions for ", inputs.text_ids.size(0), " rows");
  return text_cache_->get_or_compute(inputs.captions, [&](const std::vector<int64_t>& rows) {
    auto index = torch::tensor(rows, torch::kLong).to(inputs.text_ids.device());
    return model_->encode_text(inputs.text_ids.index_select(0, index).to(inputs.video.device()));
  });
}

PretrainStep::Features PretrainStep::forward(const StepInputs& inputs, int64_t step, PhaseClock& clock,
                                             StepTimings& timings) {
  TORCH_CHECK(inputs.video.dim() == 5, "PretrainStep: expected video [B, T, 3, H, W], got ", inputs.video.sizes());
  const ModelConfig& config = model_->config();
  const auto& weights = options_.loss();
  const bool branch = config.adapter.depth > 0;
  const int64_t frames = inputs.video.size(1), patch = config.vision.patch_size;
  std::optional<TubeMask> mask;
  if (branch) {
    TubeMaskGenerator generator((inputs.video.size(3) / patch) * (inputs.video.size(4) / patch),
                                config.adapter.mask_ratio, config.adapter.mask_layout);
    mask = rank_independent_masks(generator, inputs.sample_ids, frames, options_.mask_seed(), step)
               .to(inputs.video.device());
  }

  torch::Tensor video, text, mbca;
  MbtaFeatures mbta;
  {
    AutocastGuard autocast(options_.autocast(), inputs.video.device().type());
    VideoFeatures encoded = model_->encode_video(inputs.video, mask ? &*mask : nullptr);
    video = encoded.video_embeds;
    timings.vision_forward = clock.lap();
    text = text_features(inputs);
    timings.text_forward = clock.lap();
    if (branch && weights.mbca_weight != 0) mbca = model_->mbca_features(encoded.branch_tokens);
    if (branch && weights.mbta_weight != 0) {
      mbta = model_->mbta_features(encoded.branch_tokens, encoded.clip_tokens, mask->target_index());
    }
  }
  // Losses in fp32; the contrastive ones see the global batch.
  Features f;
  const auto mode = options_.gather();
  f.loss_inputs.video = gather_rows(video.to(torch::kFloat), *group_, mode);
  f.loss_inputs.text = gather_rows(text.to(torch::kFloat), *group_, mode);
  if (mbca.defined()) f.loss_inputs.mbca_video = gather_rows(mbca.to(torch::kFloat), *group_, mode);
  if (mbta.branch.defined()) {
    f.loss_inputs.mbta_branch = mbta.branch.to(torch::kFloat);
    f.loss_inputs.mbta_target = mbta.target.to(torch::kFloat);
  }
  return f;
}

StepResult PretrainStep::run(const StepInputs& inputs, int64_t step) {
  enter_training_mode(*model_);
  StepResult result;
  PhaseClock clock(options_.synchronize_timings() && inputs.video.is_cuda());
  const Features features = forward(inputs, step, clock, result.timings);
  const loss::PretrainLosses losses = loss::pretrain_loss(features.loss_inputs, options_.loss());
  result.timings.heads_and_loss = clock.lap();

  optimizer_->zero_grad();
  losses.total.backward();
  result.timings.backward = clock.lap();
  reducer_->synchronize();  // waits for every bucket, then averages: the order the style guide asks for
  result.timings.gradient_sync = clock.lap();

  result.grad_norm = clip_grad_norm(trainable_list_, options_.grad_clip());
  const double factor = schedule_.factor(step);
  set_learning_rates(*optimizer_, groups_, factor);
  result.lr = options_.param_groups().lr() * factor;
  result.applied = std::isfinite(result.grad_norm);
  if (result.applied) optimizer_->step();
  result.timings.optimizer = clock.lap();

  // Rank-averaged loss values for the logs (MBTA is per rank; the contrastive terms agree already).
  auto terms = torch::tensor({value_or_zero(losses.total), value_or_zero(losses.vtc), value_or_zero(losses.mbca),
                              value_or_zero(losses.mbta)},
                             torch::TensorOptions().dtype(torch::kDouble))
                   .to(losses.total.device());
  group_->all_reduce_sum(terms);
  terms = terms.cpu() / group_->world_size();
  result.loss = terms[0].item<double>();
  result.vtc = terms[1].item<double>();
  result.mbca = terms[2].item<double>();
  result.mbta = terms[3].item<double>();
  return result;
}

}  // namespace btadapter::train
