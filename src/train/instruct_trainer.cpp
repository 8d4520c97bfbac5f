#include "btadapter/train/instruct_trainer.h"

#include "btadapter/chat/video_tower_weights.h"
#include "btadapter/data/random.h"
#include "btadapter/dist/environment.h"
#include "btadapter/llm/hf_checkpoint.h"
#include "btadapter/train/checkpoint.h"
#include "btadapter/train/jsonl_logger.h"
#include "btadapter/train/progress.h"
#include "btadapter/train/rng_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>

namespace btadapter::train {
namespace {

namespace fs = std::filesystem;

void check_inputs(const TrainConfig& config) {
  const InstructSection& in = config.instruct;
  std::vector<std::string> problems;
  const auto need = [&](const char* key, const std::string& path, bool folder) {
    if (path.empty()) problems.push_back(std::string(key) + " is not set");
    else if (folder ? !fs::is_directory(path) : !fs::exists(path))
      problems.push_back(std::string(key) + ": no such " + (folder ? "folder" : "file") + " '" + path + "'");
  };
  need("instruct.llm", in.llm, false);
  need("instruct.clip", in.clip, false);
  need("instruct.adapter", in.adapter, false);
  need("instruct.projector", in.projector, false);
  need("instruct.annotations", in.annotations, false);
  need("instruct.features", in.features, true);
  if (!in.tokenizer.empty()) need("instruct.tokenizer", in.tokenizer, false);
  TORCH_CHECK(config.run.device != "cuda", "run.device: bt_instruct runs on the CPU for now, got 'cuda'");
  if (problems.empty()) return;
  std::string message = "cannot start instruction tuning: ";
  for (size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  TORCH_CHECK(false, message);
}

std::string tokenizer_path(const InstructSection& in) {
  if (!in.tokenizer.empty()) return in.tokenizer;
  const fs::path folder = fs::is_directory(in.llm) ? fs::path(in.llm) : fs::path(in.llm).parent_path();
  return (folder / "tokenizer.model").string();
}

InstructModel load_model(const InstructSection& in, const text::LlamaTokenizer& tokenizer) {
  InstructModel m;
  m.tower = chat::load_video_tower(in.clip, in.adapter);
  m.projector = chat::load_projector(in.projector);
  m.llm = llm::load_llama(in.llm);
  if (m.projector.embed_tokens.defined()) {  // the sft projector file's table replaces the LLM's (quirk 13)
    torch::NoGradGuard no_grad;
    m.llm->model->embed_tokens->weight.copy_(m.projector.embed_tokens);
  }
  m.splice = llm::VideoSpliceOptions(tokenizer.video_patch_id(), tokenizer.video_start_id(), tokenizer.video_end_id());
  return m;
}

// This rank's dataset indices for global step `step` (see the header comment).
std::vector<int64_t> rank_indices(const TrainConfig& config, int64_t dataset_size, int64_t steps_per_epoch,
                                  int64_t step, int rank, int world) {
  const int64_t epoch = step / steps_per_epoch, within = step % steps_per_epoch;
  torch::Tensor order = torch::arange(dataset_size, torch::kLong);
  if (config.data.shuffle) {
    auto generator = at::detail::createCPUGenerator(
        data::DataRng::mix({static_cast<uint64_t>(config.run.seed), static_cast<uint64_t>(epoch)}));
    order = torch::randperm(dataset_size, generator, torch::kLong);
  }
  const int64_t batch = config.data.batch_size;
  const int64_t first = within * batch * world + rank * batch;
  std::vector<int64_t> indices(static_cast<size_t>(batch));
  for (int64_t k = 0; k < batch; ++k) indices[static_cast<size_t>(k)] = order[first + k].item<int64_t>();
  return indices;
}

InstructStepOptions step_options(const TrainConfig& c, int64_t steps_per_epoch) {
  return InstructStepOptions(WarmupCosineOptions(steps_per_epoch)
                                 .warmup_epochs(c.schedule.warmup_epochs)
                                 .warmup_start_factor(c.schedule.warmup_start_factor)
                                 .cosine_epochs(c.schedule.cosine_epochs)
                                 .cosine_end_epoch(c.schedule.cosine_end_epoch)
                                 .min_factor(c.schedule.min_lr_factor))
      .lr(c.optim.lr)
      .weight_decay(c.optim.weight_decay)
      .beta1(c.optim.betas[0])
      .beta2(c.optim.betas[1])
      .eps(c.optim.eps)
      .grad_clip(c.optim.grad_clip)
      .reducer(dist::GradientReducerOptions()
                   .bucket_bytes(static_cast<int64_t>(c.dist.bucket_mb * 1024 * 1024))
                   .overlap_with_backward(c.dist.overlap));
}

// The checkpoint checkpoint.resume asks for, or nullopt for a fresh start.
std::optional<Checkpoint> find_checkpoint(const TrainConfig& config, const CheckpointManager& manager,
                                          bool require, std::ostream& log, bool leader) {
  const std::string& resume = config.checkpoint.resume;
  std::optional<Checkpoint> found;
  if (resume == "auto") {
    std::vector<std::string> skipped;
    if (auto latest = manager.load_latest(&skipped)) found = std::move(latest->checkpoint);
    for (const auto& s : skipped) {
      if (leader) log << "skipped unreadable checkpoint " << s << "\n";
    }
  } else if (resume == "none") {
    TORCH_CHECK(manager.list().empty(), "checkpoint.resume is 'none' but ", config.run.output_dir,
                "/checkpoints already holds checkpoints (use 'auto' to continue)");
  } else {
    found = read_checkpoint(resume);
  }
  TORCH_CHECK(found || !require, "--resume: no checkpoint to resume from in ", config.run.output_dir, "/checkpoints");
  return found;
}

}  // namespace

InstructSummary run_instruct_training(const TrainConfig& config, const InstructTrainerOptions& options) {
  check_inputs(config);
  std::ostream& log = options.log() ? *options.log() : std::cerr;
  std::shared_ptr<dist::ProcessGroup> group = options.group();
  if (!group) {
    group = dist::init_process_group(dist::environment_from_env(),
                                     dist::ProcessGroupOptions().timeout(std::chrono::milliseconds(
                                         static_cast<int64_t>(config.dist.timeout_s * 1000))));
  }
  const int rank = group->rank(), world = group->world_size();
  const bool leader = rank == 0;
  torch::manual_seed(static_cast<uint64_t>(config.run.seed + rank));

  const text::LlamaTokenizer tokenizer(tokenizer_path(config.instruct));
  InstructModel model = load_model(config.instruct, tokenizer);
  const InstructionDataset data(config.instruct.annotations, tokenizer,
                                InstructionDatasetOptions(config.instruct.features, model.tower->options().num_patches() + 1)
                                    .max_length(config.instruct.max_length));
  InstructSummary summary;
  summary.data = data.stats();
  const int64_t global_batch = config.data.batch_size * world;
  summary.steps_per_epoch = data.size() / global_batch;
  TORCH_CHECK(summary.steps_per_epoch > 0, "instruct.annotations: ", data.size(), " usable samples (of ",
              data.stats().rows, " rows) is less than one global batch of ", global_batch);
  int64_t total = summary.steps_per_epoch * config.schedule.epochs;
  if (config.schedule.max_steps > 0) total = std::min(total, config.schedule.max_steps);
  if (leader) {
    const auto& s = data.stats();
    log << "instruction data: " << s.usable << " samples of " << s.rows << " rows (bad " << s.bad_rows
        << ", missing features " << s.missing_features << ", truncated " << s.truncated << " of which skipped "
        << s.truncated_dropped << ", label mismatch " << s.mismatched << ")\n";
  }

  InstructStep step(std::move(model), step_options(config, summary.steps_per_epoch), group);
  const CheckpointManager manager(
      CheckpointManagerOptions(config.run.output_dir + "/checkpoints").keep_last(config.checkpoint.keep_last));
  if (auto checkpoint = find_checkpoint(config, manager, options.require_resume(), log, leader)) {
    restore_checkpoint(*checkpoint, step.trainable(), step.optimizer());
    if (static_cast<size_t>(rank) < checkpoint->rng.size()) restore_rng_state(checkpoint->rng[rank]);
    summary.start_step = checkpoint->progress.step;
    if (leader) log << "resumed at step " << summary.start_step << "\n";
  }
  std::unique_ptr<JsonlLogger> logger;
  if (leader) {
    write_train_config(config.run.output_dir + "/config.yaml", config);
    logger = std::make_unique<JsonlLogger>(config.run.output_dir + "/train_log.jsonl");
  }
  ProgressReporter progress(ProgressOptions(total).plain_every(config.run.log_every), log);

  const auto save = [&](int64_t done) {
    TrainingProgress p;
    p.step = done;
    p.epoch = done / summary.steps_per_epoch;
    p.samples_seen = done * global_batch;
    p.world_size = world;
    p.config_yaml = train_config_to_yaml(config);
    auto rng = gather_rng_states(*group);
    if (leader) summary.checkpoint = manager.save(capture_checkpoint(step.trainable(), step.optimizer(), p, rng));
  };
  int64_t bad_interval = 0, steps_interval = 0;
  auto interval_start = std::chrono::steady_clock::now();
  for (int64_t s = summary.start_step; s < total; ++s) {
    const InstructionBatch batch =
        collate_instructions(data, rank_indices(config, data.size(), summary.steps_per_epoch, s, rank, world), tokenizer.unk_id());
    bad_interval += batch.bad_videos;
    ++steps_interval;
    for (const auto& problem : batch.problems) log << "rank " << rank << " step " << s << ": skipped " << problem << "\n";
    summary.last = step.run(batch, s);
    const int64_t done = s + 1;
    if (done % config.run.log_every == 0 || done == total) {
      torch::Tensor bad = torch::tensor({static_cast<double>(bad_interval)}, torch::kDouble);
      group->all_reduce_sum(bad);
      summary.bad_videos += static_cast<int64_t>(bad.item<double>());
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - interval_start).count();
      if (leader) {
        logger->write({{"step", done}, {"epoch", s / summary.steps_per_epoch}, {"lr", summary.last.lr},
                       {"loss", summary.last.loss}, {"tokens", summary.last.tokens}, {"grad_norm", summary.last.grad_norm},
                       {"bad_videos", static_cast<int64_t>(bad.item<double>())},
                       {"samples_per_s", seconds > 0 ? static_cast<double>(global_batch * steps_interval) / seconds : 0.0}});
      }
      bad_interval = steps_interval = 0;
      interval_start = std::chrono::steady_clock::now();
    }
    if (leader) progress.update({done, global_batch, {{"loss", summary.last.loss}}});
    if (config.checkpoint.every_steps > 0 && done % config.checkpoint.every_steps == 0 && done != total) save(done);
  }
  if (leader) progress.finish();
  summary.steps = std::max(total, summary.start_step);
  save(summary.steps);
  summary.adapter_file = config.run.output_dir + "/adapter.safetensors";
  summary.projector_file = config.run.output_dir + "/mm_projector.safetensors";
  if (leader) save_instruct_weights(step.model(), summary.adapter_file, summary.projector_file);
  group->barrier();
  return summary;
}

}  // namespace btadapter::train
