#include "btadapter/train/trainer.h"

#include <c10/core/DeviceGuard.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "btadapter/data/dataset.h"
#include "btadapter/data/loader.h"
#include "btadapter/dist/environment.h"
#include "btadapter/io/model_file.h"
#include "btadapter/io/state_dict.h"
#include "btadapter/runtime/cpu_runtime.h"
#include "btadapter/text/tokenizer.h"
#include "btadapter/train/checkpoint.h"
#include "btadapter/train/jsonl_logger.h"
#include "btadapter/train/model_setup.h"
#include "btadapter/train/progress.h"
#include "btadapter/train/rng_state.h"
#include "btadapter/train/run_folder.h"

namespace btadapter::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_file(std::vector<std::string>& problems, const std::string& key, const std::string& path,
                const std::string& what) {
  if (path.empty()) {
    problems.push_back(key + " is not set (" + what + ")");
  } else if (!fs::exists(path)) {
    problems.push_back(key + ": no such file or folder '" + path + "'");
  }
}

void check_folder(std::vector<std::string>& problems, const std::string& key, const std::string& path) {
  if (!path.empty() && !fs::is_directory(path)) problems.push_back(key + ": no such folder '" + path + "'");
}

// Device, backend and autocast dtype of this rank.
struct Placement {
  torch::Device device = torch::kCPU;
  dist::Backend backend = dist::Backend::kGloo;
  std::optional<torch::Dtype> autocast;
};

Placement resolve_placement(const TrainConfig& config, const dist::DistEnvironment& env) {
  const int local_rank = env.local_rank;
  Placement p;
  const DeviceChoice device = config.run.device;
  const bool cuda = device == DeviceChoice::kCuda || (device == DeviceChoice::kAuto && torch::cuda::is_available());
  TORCH_CHECK(!cuda || torch::cuda::is_available(), "run.device is 'cuda' but no CUDA device is available");
  if (cuda) {
    TORCH_CHECK(local_rank < static_cast<int>(torch::cuda::device_count()), "run.device cuda: LOCAL_RANK ",
                local_rank, " has no GPU (", torch::cuda::device_count(), " visible)");
    p.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
  }
  const BackendChoice backend = config.dist.backend;
  p.backend = backend == BackendChoice::kNccl || (backend == BackendChoice::kAuto && cuda) ? dist::Backend::kNccl
                                                                                          : dist::Backend::kGloo;
  // The features and gradients exchanged live on the training device: Gloo moves CPU tensors only here,
  // NCCL CUDA tensors only.
  TORCH_CHECK(!env.distributed() || (p.backend == dist::Backend::kNccl) == cuda, "dist.backend ",
              enum_name(p.backend), " cannot train on run.device ", cuda ? "cuda" : "cpu",
              ": use nccl with cuda, gloo with cpu (or leave both on auto)");
  const PrecisionChoice precision = config.run.precision;
  // bf16 on CPU only when asked for: fast with AVX-512 BF16 (oneDNN), slow emulation elsewhere. Its
  // checkpointed recomputation does not reproduce the bf16 forward yet (gradients off by bf16 rounding).
  TORCH_CHECK(precision != PrecisionChoice::kBf16 || cuda || !config.model.gradient_checkpointing,
              "run.precision bf16 on CPU does not work with model.gradient_checkpointing yet: turn one off");
  if (precision == PrecisionChoice::kBf16 || (cuda && precision == PrecisionChoice::kAuto)) p.autocast = torch::kBFloat16;
  return p;
}

std::string format_scores(const ValidationScores& scores) {
  std::ostringstream out;
  out.precision(4);
  for (const auto& [name, value] : scores) out << " " << name << " " << value;
  return out.str();
}

// Running sums over one log interval.
struct Interval {
  int64_t steps = 0;
  double loss = 0, vtc = 0, mbca = 0, mbta = 0, grad_norm = 0, data_wait = 0, compute = 0;
  int64_t replaced = 0;
  Clock::time_point start = Clock::now();

  void add(const StepResult& r, double wait, double compute_s, int64_t replaced_now) {
    ++steps;
    loss += r.loss;
    vtc += r.vtc;
    mbca += r.mbca;
    mbta += r.mbta;
    grad_norm += r.grad_norm;
    data_wait += wait;
    compute += compute_s;
    replaced += replaced_now;
  }
};

}  // namespace

void check_training_inputs(const TrainConfig& config) {
  std::vector<std::string> problems;
  if (!config.model.random_clip) {
    check_file(problems, "model.clip", config.model.clip,
               "CLIP weights: an HF folder, .safetensors/.bin, or an OpenAI .pt; or set model.random_clip: true");
  }
  if (!config.model.config.tokenizer.vocab.empty()) {
    check_file(problems, "model.tokenizer.vocab", config.model.config.tokenizer.vocab, "");
  }
  check_file(problems, "data.annotations", config.data.annotations, "the training annotation file, format " +
             config.data.format);
  if (config.data.video_root.empty()) {
    problems.push_back("data.video_root is not set (the folder the annotation's videos are under)");
  } else {
    check_folder(problems, "data.video_root", config.data.video_root);
  }
  if (!config.eval.annotations.empty()) {
    check_file(problems, "eval.annotations", config.eval.annotations, "");
    check_folder(problems, "eval.video_root", config.eval.video_root);
  }
  if (problems.empty()) return;
  std::string message = "cannot start training: ";
  for (size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  TORCH_CHECK(false, message);
}

struct Trainer::State {
  TrainConfig config;
  TrainerOptions options;
  std::ostream* log = &std::cerr;
  std::shared_ptr<dist::ProcessGroup> group;
  Placement placement;
  std::optional<c10::DeviceGuard> device_guard;
  VideoTextModel model{nullptr};
  std::unique_ptr<Tokenizer> tokenizer;
  std::shared_ptr<const data::VideoTextDataset> dataset;
  std::unique_ptr<data::VideoTextLoader> loader;
  std::unique_ptr<PretrainStep> step;
  std::unique_ptr<CheckpointManager> checkpoints;
  std::unique_ptr<JsonlLogger> logger;
  ValidationHook validation;
  int64_t steps_per_epoch = 0;
  int64_t total_steps = 0;
  TrainingProgress progress;

  bool leader() const { return group->rank() == 0; }
  std::ostream& say() { return *log; }

  void join_group();
  void configure_cpu();
  void build_model();
  void build_data(std::optional<data::LoaderState> resume);
  std::optional<Checkpoint> find_checkpoint();
  void restore(const Checkpoint& checkpoint);
  std::string save_checkpoint();
  ValidationScores validate(int64_t step_done);
  void write_record(const Interval& interval, int64_t step_done, const StepResult& last, int64_t skipped);
  std::string write_model_file();
};

void Trainer::State::join_group() {
  const dist::DistEnvironment env = dist::environment_from_env();
  placement = resolve_placement(config, env);
  if (placement.device.is_cuda()) device_guard.emplace(placement.device);  // NCCL needs the current device
  group = options.group();
  if (!group) {
    group = dist::init_process_group(env, dist::ProcessGroupOptions().backend(placement.backend).timeout(
                                              std::chrono::milliseconds(static_cast<int64_t>(config.dist.timeout_s * 1000))));
  }
}

// CPU runs: threads and allocator set on purpose (runtime/cpu_runtime.h), reported by rank 0.
void Trainer::State::configure_cpu() {
  if (placement.device.is_cuda()) return;
  const auto& run = config.run;
  const CpuRuntimeState runtime = configure_cpu_runtime(CpuRuntimeOptions()
                                                            .torch_threads(static_cast<int>(run.cpu_threads))
                                                            .blas_threads(static_cast<int>(run.blas_threads))
                                                            .keep_freed_memory(run.keep_freed_memory));
  if (leader()) say() << "cpu: " << describe(runtime) << "\n";
}

void Trainer::State::build_model() {
  torch::manual_seed(static_cast<uint64_t>(config.run.seed));  // same start on every rank ...
  BuiltModel built = build_pretrain_model(config.model);
  model = built.model;
  model->to(placement.device);
  std::vector<torch::Tensor> tensors;
  for (const auto& p : model->parameters()) tensors.push_back(p);
  dist::broadcast_tensors(*group, tensors);  // ... and guaranteed so
  if (leader()) say() << "model: " << built.description << "\n";
  torch::manual_seed(static_cast<uint64_t>(config.run.seed + group->rank()));  // per-rank drop path

  const TokenizerConfig tokenizer_config = resolve_tokenizer_config(config.model);
  tokenizer = make_tokenizer(tokenizer_config);
  const auto& text = model->config().text;
  TORCH_CHECK(tokenizer->vocab_size() <= text.vocab_size, "model.tokenizer: the vocabulary has ",
              tokenizer->vocab_size(), " ids but the text tower embeds ", text.vocab_size);
  TORCH_CHECK(tokenizer->framing().output_length() <= text.context_length, "model.tokenizer: captions of ",
              tokenizer->framing().output_length(), " ids exceed the text tower's ", text.context_length,
              " positions");
  if (options.validation()) {
    validation = *options.validation();
  } else {
    validation = make_retrieval_validation(config, tokenizer_config, placement.device, placement.autocast);
  }
}

void Trainer::State::build_data(std::optional<data::LoaderState> resume) {
  const auto& d = config.data;
  auto annotations = data::read_annotations(d.annotations, d.format,
                                            data::AnnotationOptions().root(d.video_root).skip_bad_rows(true));
  if (leader() && !annotations.bad_rows.empty()) {
    say() << "data: skipped " << annotations.bad_rows.size() << " malformed rows, the first: "
          << annotations.bad_rows.front().reason << "\n";
  }
  auto clip = data::ClipOptions(d.num_frames, model->config().vision.image_size)
                  .train(true)
                  .sampling(d.sampling);
  clip.transform().crop().min_area(d.crop_min_area);
  dataset = std::make_shared<const data::VideoTextDataset>(std::move(annotations), clip);
  const int64_t world = group->world_size();
  steps_per_epoch = (dataset->size() / world) / d.batch_size;
  TORCH_CHECK(steps_per_epoch > 0, "data.annotations: ", dataset->size(), " samples are fewer than one global batch (",
              world, " ranks x data.batch_size ", d.batch_size, ")");
  total_steps = steps_per_epoch * config.schedule.epochs;
  if (config.schedule.max_steps > 0) total_steps = std::min(total_steps, config.schedule.max_steps);
  loader = std::make_unique<data::VideoTextLoader>(dataset,
                                                   data::LoaderOptions(d.batch_size)
                                                       .num_workers(d.num_workers)
                                                       .shuffle(d.shuffle)
                                                       .seed(static_cast<uint64_t>(config.run.seed))
                                                       .rank(group->rank())
                                                       .world_size(world),
                                                   resume);
  if (leader()) {
    say() << "data: " << dataset->size() << " clips of " << d.num_frames << " frames, " << world << " x "
          << d.batch_size << " per step, " << steps_per_epoch << " steps per epoch, " << total_steps
          << " steps in this run\n";
  }
}

std::optional<Checkpoint> Trainer::State::find_checkpoint() {
  const std::string& resume = config.checkpoint.resume;
  if (resume != "auto" && resume != "none") return read_checkpoint(resume);
  if (resume == "none") {
    TORCH_CHECK(!options.require_resume(), "--resume conflicts with checkpoint.resume: none");
    TORCH_CHECK(checkpoints->list().empty(), "checkpoint.resume is 'none' but ", config.run.output_dir,
                "/checkpoints already holds checkpoints: use a new run.output_dir or resume: auto");
    return std::nullopt;
  }
  std::vector<std::string> skipped;
  auto latest = checkpoints->load_latest(&skipped);
  if (leader()) {
    for (const auto& s : skipped) say() << "checkpoint: skipped unreadable " << s << "\n";
  }
  TORCH_CHECK(latest || !options.require_resume(), "--resume: no checkpoint to resume from in ",
              config.run.output_dir, "/checkpoints");
  if (!latest) return std::nullopt;
  if (leader()) say() << "resuming from " << latest->path << "\n";
  return std::move(latest->checkpoint);
}

void Trainer::State::restore(const Checkpoint& checkpoint) {
  restore_checkpoint(checkpoint, step->trainable(), step->optimizer());
  progress = checkpoint.progress;
  progress.config_yaml = train_config_to_yaml(config);
  const auto rank = static_cast<size_t>(group->rank());
  if (progress.world_size == group->world_size() && rank < checkpoint.rng.size()) {
    restore_rng_state(checkpoint.rng[rank]);
  } else if (leader()) {
    say() << "resume: the checkpoint was written by " << progress.world_size << " ranks, this run has "
          << group->world_size() << ": data continues where it stopped, random streams restart\n";
  }
}

std::string Trainer::State::save_checkpoint() {
  progress.loader_state = data::loader_state_to_json(loader->state());
  progress.epoch = loader->state().epoch;
  auto rng = gather_rng_states(*group);  // collective: every rank
  std::string path;
  if (leader()) path = checkpoints->save(capture_checkpoint(step->trainable(), step->optimizer(), progress, rng));
  return path;
}

ValidationScores Trainer::State::validate(int64_t step_done) {
  if (!validation) return {};
  group->heartbeat("step " + std::to_string(step_done) + " validation");
  ValidationScores scores = validation(*model, *group, step_done);
  if (leader()) {
    say() << "validation at step " << step_done << ":" << format_scores(scores) << "\n";
    LogRecord record{{"step", step_done}};
    for (const auto& [name, value] : scores) record.emplace_back("val_" + name, value);
    logger->write(record);
  }
  return scores;
}

void Trainer::State::write_record(const Interval& interval, int64_t step_done, const StepResult& last,
                                  int64_t skipped) {
  // Times and replacements are per rank: average the times, add the replacements.
  auto totals = torch::tensor({interval.data_wait, interval.compute, static_cast<double>(interval.replaced)},
                              torch::kDouble);
  if (group->backend() == dist::Backend::kNccl) totals = totals.to(placement.device);
  group->all_reduce_sum(totals);
  totals = totals.cpu();
  if (!leader()) return;
  const double n = static_cast<double>(interval.steps), world = group->world_size();
  const double elapsed = seconds_since(interval.start);
  logger->write({{"step", step_done},
                 {"epoch", loader->state().epoch},
                 {"lr", last.lr},
                 {"loss", interval.loss / n},
                 {"vtc", interval.vtc / n},
                 {"mbca", interval.mbca / n},
                 {"mbta", interval.mbta / n},
                 {"grad_norm", interval.grad_norm / n},
                 {"data_wait_s", totals[0].item<double>() / world / n},
                 {"compute_s", totals[1].item<double>() / world / n},
                 {"videos_per_s", n * config.data.batch_size * world / std::max(elapsed, 1e-9)},
                 {"replaced", static_cast<int64_t>(totals[2].item<double>())},
                 {"skipped_steps", skipped}});
}

std::string Trainer::State::write_model_file() {
  const std::string path = (fs::path(config.run.output_dir) / "model.safetensors").string();
  if (leader()) {
    io::save_model_file(path, model->config(), io::state_dict(*model),
                        {{"btadapter.train.steps", std::to_string(progress.step)},
                         {"btadapter.train.config", progress.config_yaml}});
  }
  return path;
}

Trainer::Trainer(TrainConfig config, TrainerOptions options) : state_(std::make_unique<State>()) {
  State& s = *state_;
  validate(config);
  check_training_inputs(config);
  s.config = std::move(config);
  s.options = std::move(options);
  if (s.options.log()) s.log = s.options.log();
  s.join_group();
  s.configure_cpu();
  s.build_model();
  s.checkpoints = std::make_unique<CheckpointManager>(
      CheckpointManagerOptions((fs::path(s.config.run.output_dir) / "checkpoints").string())
          .keep_last(s.config.checkpoint.keep_last));
  std::optional<Checkpoint> checkpoint = s.find_checkpoint();
  std::optional<data::LoaderState> loader_state;
  if (checkpoint) loader_state = data::loader_state_from_json(checkpoint->progress.loader_state);
  s.build_data(loader_state);
  auto step_options = pretrain_step_options(s.config, s.steps_per_epoch).autocast(s.placement.autocast);
  s.step = std::make_unique<PretrainStep>(s.model, step_options, s.group);
  s.progress.world_size = s.group->world_size();
  s.progress.config_yaml = train_config_to_yaml(s.config);
  if (checkpoint) s.restore(*checkpoint);
  if (s.leader()) {
    fs::create_directories(s.config.run.output_dir);
    const std::string note = repair_note(repair_run_folder(s.config.run.output_dir, s.progress.step));
    if (!note.empty()) s.say() << note << "\n";
    write_train_config((fs::path(s.config.run.output_dir) / "config.yaml").string(), s.config);
    s.logger = std::make_unique<JsonlLogger>((fs::path(s.config.run.output_dir) / "train_log.jsonl").string());
  }
}

Trainer::~Trainer() = default;

VideoTextModel Trainer::model() const { return state_->model; }

int64_t Trainer::step() const { return state_->progress.step; }

TrainSummary Trainer::run() {
  State& s = *state_;
  TrainSummary summary;
  summary.start_step = s.progress.step;
  summary.total_steps = s.total_steps;
  summary.steps_per_epoch = s.steps_per_epoch;
  std::optional<ProgressReporter> progress;
  const int64_t world = s.group->world_size(), log_every = std::max<int64_t>(1, s.config.run.log_every);
  if (s.leader()) {
    // The bar redraws in place only on a terminal; a log file or another stream gets plain lines.
    const bool bar = s.log == &std::cerr && stderr_is_terminal();
    progress.emplace(ProgressOptions(s.total_steps).bar(bar).plain_every(log_every), s.say());
  }

  const auto start = Clock::now();
  Interval interval;
  int64_t saved_at = -1;
  while (s.progress.step < s.total_steps) {
    const int64_t step = s.progress.step;
    s.group->heartbeat("step " + std::to_string(step) + " data");
    const auto wait_start = Clock::now();
    std::optional<data::Batch> batch = s.loader->next();
    const double wait = seconds_since(wait_start);
    if (!batch) continue;  // the epoch ended; the next call starts the next one
    if (step > summary.start_step) summary.max_data_wait_s = std::max(summary.max_data_wait_s, wait);

    s.group->heartbeat("step " + std::to_string(step) + " compute");
    const auto compute_start = Clock::now();
    StepInputs inputs{batch->video.to(s.placement.device), s.tokenizer->tokenize(batch->captions), batch->captions,
                      batch->indices};
    summary.last = s.step->run(inputs, step);
    const double compute = seconds_since(compute_start);

    s.progress.step = step + 1;
    s.progress.samples_seen += batch->video.size(0) * world;
    if (!summary.last.applied) {
      ++summary.skipped_steps;
      if (s.leader()) s.say() << "step " << step + 1 << ": non-finite gradient norm, update skipped\n";
    }
    summary.data_wait_s += wait;
    summary.compute_s += compute;
    summary.replaced += batch->num_replaced;
    interval.add(summary.last, wait, compute, batch->num_replaced);

    const int64_t done = s.progress.step;
    if (done % log_every == 0 || done == s.total_steps) {
      s.write_record(interval, done, summary.last, summary.skipped_steps);
      if (progress) {
        progress->update({done, interval.steps * s.config.data.batch_size * world,
                          {{"loss", summary.last.loss},
                           {"vtc", summary.last.vtc},
                           {"mbca", summary.last.mbca},
                           {"mbta", summary.last.mbta}}});
      }
      interval = Interval();
    }
    const int64_t every = s.config.checkpoint.every_steps;
    if (every > 0 && done % every == 0) {
      summary.checkpoint = s.save_checkpoint();
      saved_at = done;
    }
    const int64_t eval_every = s.config.eval.every_steps;
    if (eval_every > 0 && done % eval_every == 0 && done < s.total_steps) summary.validation = s.validate(done);
  }
  if (progress) progress->finish();
  summary.seconds = seconds_since(start);
  summary.steps = s.progress.step;

  if (saved_at != s.progress.step) summary.checkpoint = s.save_checkpoint();
  if (s.config.eval.at_end) summary.validation = s.validate(s.progress.step);
  summary.model_file = s.write_model_file();
  s.group->barrier();  // nobody leaves before rank 0 has written
  if (s.leader()) s.say() << "wrote " << summary.model_file << " after " << summary.steps << " steps\n";
  return summary;
}

}  // namespace btadapter::train
