#pragma once
/// The pretraining configuration: a typed struct read from YAML (configs/webvid.yaml reproduces the
/// official recipe), overridable from the command line with `--set a.b=value`, and written back
/// resolved next to the checkpoints.
///
/// Every key is registered once with its type and a doc string (config_reference() lists them, for
/// `bt_pretrain --help-config` and the README). Reading is strict: an unknown key, a wrong type or an
/// out-of-range value raises c10::Error naming the key and where it came from, e.g.
///   "configs/x.yaml: unknown key 'optim.lrr' (did you mean 'optim.lr'?)"
///   "--set optim.lr=fast: key 'optim.lr' expects a number, got 'fast'"
/// Keys absent from the file keep the defaults below, which are the official recipe's values.
///
/// Example:
///   auto config = train::load_train_config("configs/webvid.yaml", {"data.batch_size=16"});
///   train::write_train_config(output_dir + "/config.yaml", config);
///
/// Thread safety: plain data and free functions.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "btadapter/config/model_config.h"
#include "btadapter/train/optimizer.h"

namespace btadapter::train {

/// Model to build and how to run it.
struct ModelSection {
  std::string clip;                     ///< CLIP weights (HF folder/.safetensors/.bin or OpenAI .pt); required unless random_clip
  bool random_clip = false;             ///< random CLIP with the configured sizes instead of `clip`; default false
  bool train_clip = false;              ///< train CLIP too (all parameters), not only the branch; default false
  ModelConfig config;                   ///< sizes (used with random_clip), adapter, tokenizer
  bool gradient_checkpointing = true;   ///< recompute adapter layers in backward; default true
};

/// Training data (read by the data loader).
struct DataSection {
  std::string format = "webvid";  ///< annotation format name; default webvid
  std::string annotations;        ///< annotation file; required for training
  std::string video_root;         ///< folder the video paths are relative to
  int64_t num_frames = 8;         ///< frames per clip; default 8
  std::string sampling = "uniform";  ///< "uniform" (official UniformSample) or "start" (first frames); default uniform
  double crop_min_area = 0.08;       ///< smallest RandomResizedCrop area fraction; default 0.08 (official)
  int64_t batch_size = 52;        ///< clips per process and step; default 52
  int64_t num_workers = 16;       ///< decoding threads per process; default 16
  bool shuffle = true;            ///< reshuffle every epoch; default true
};

/// Loss weights and the cross-rank gather.
struct LossSection {
  double vtc_weight = 1.0;    ///< video-text contrastive; default 1
  double mbca_weight = 0.1;   ///< branch-text contrastive (MBCA); default 0.1
  double mbta_weight = 0.1;   ///< masked branch-token distillation (MBTA); default 0.1
  double tau = 0.01;          ///< fixed temperature (logit scale 1/tau); default 0.01
  std::string gather = "sum"; ///< "sum" or "official" (see dist/gather.h); default sum
};

struct OptimSection {
  double lr = 2e-6;                          ///< base (peak) learning rate; default 2e-6
  std::array<double, 2> betas{0.9, 0.98};    ///< AdamW betas; default [0.9, 0.98]
  double eps = 1e-8;                         ///< AdamW epsilon; default 1e-8
  double weight_decay = 0.05;                ///< decoupled weight decay on all trainable params; default 0.05
  std::vector<LrMultRule> lr_mult = official_lr_mult_rules();  ///< custom keys; default the official four
  double grad_clip = 5.0;                    ///< max global L2 gradient norm, 0 = off; default 5
};

struct ScheduleSection {
  int64_t epochs = 1;                  ///< training epochs; default 1
  int64_t max_steps = 0;               ///< stop after this many steps, 0 = no limit; default 0
  double warmup_epochs = 0.5;          ///< linear warm-up length; default 0.5
  double warmup_start_factor = 0.05;   ///< warm-up start factor; default 0.05
  double cosine_epochs = 4.5;          ///< cosine T_max; default 4.5
  double cosine_end_epoch = 4.0;       ///< cosine end; default 4
  double min_lr_factor = 0.0;          ///< cosine floor relative to the peak; default 0
};

/// Process-level run settings.
struct RunSection {
  std::string output_dir = "runs/webvid";  ///< checkpoints, resolved config, logs; default runs/webvid
  std::string device = "auto";             ///< "auto", "cpu" or "cuda" (rank's local GPU); default auto
  std::string precision = "auto";          ///< "auto" (bf16 on CUDA, fp32 on CPU), "bf16", "fp32"
  int64_t seed = 42;                       ///< base seed (each rank adds its rank); default 42
  int64_t log_every = 10;                  ///< steps between progress lines / JSONL records; default 10
  int64_t text_cache_mb = 0;               ///< frozen text-feature cache bound in MiB, 0 = off; default 0
  int64_t cpu_threads = 0;                 ///< CPU runs: LibTorch intra-op threads, 0 = automatic (runtime/cpu_runtime.h)
  int64_t blas_threads = 0;                ///< CPU runs: BLAS threads, 0 = automatic
  bool keep_freed_memory = true;           ///< CPU runs: keep freed memory in the process; default true
};

struct DistSection {
  std::string backend = "auto";  ///< "auto" (nccl on CUDA, gloo on CPU), "gloo" or "nccl"
  double timeout_s = 1800;       ///< collective / rendezvous deadline in seconds; default 1800
  double bucket_mb = 25;         ///< gradient all-reduce bucket size in MiB; default 25
  bool overlap = true;           ///< start bucket reductions during backward; default true
};

struct CheckpointSection {
  int64_t every_steps = 1000;   ///< save every N steps (and at the end), 0 = only at the end
  int64_t keep_last = 3;        ///< checkpoints kept on disk; default 3
  std::string resume = "auto";  ///< "auto" (newest valid in output_dir), "none", or a checkpoint path
};

/// Retrieval validation (MSR-VTT 1k-A in the official recipe).
struct EvalSection {
  int64_t every_steps = 0;                  ///< validate every N steps, 0 = only at the end
  bool at_end = true;                       ///< validate after training; default true
  std::string format = "msrvtt-json";       ///< annotation format name; default msrvtt-json
  std::string annotations;                  ///< "" = no validation
  std::string video_root;                   ///< video folder
  int64_t num_frames = 12;                  ///< frames per clip; default 12
  std::string text_truncate = "official:32";  ///< tokenizer truncation at evaluation; default official:32
  int64_t batch_size = 12;                  ///< clips per forward; default 12
};

/// Video instruction tuning (bt_instruct, train/instruct_trainer.h); bt_pretrain ignores it.
struct InstructSection {
  std::string llm;          ///< frozen LLaMA (HF folder or one weight file with config.json beside it)
  std::string clip;         ///< CLIP vision weights of the tower
  std::string adapter;      ///< initial BT-Adapter weights (chat/video_tower_weights.h)
  std::string projector;    ///< initial mm_projector file
  std::string tokenizer;    ///< LLaMA SentencePiece model; "" = tokenizer.model beside the LLM
  std::string annotations;  ///< VideoChatGPT instruction JSON
  std::string features;     ///< folder of pre-extracted features (train/instruct_data.h)
  int64_t max_length = 2048;  ///< model context; longer samples are cut (and counted)
};

struct TrainConfig {
  ModelSection model;
  DataSection data;
  LossSection loss;
  OptimSection optim;
  ScheduleSection schedule;
  RunSection run;
  DistSection dist;
  CheckpointSection checkpoint;
  EvalSection eval;
  InstructSection instruct;
};

/// One documented key, for printing a reference.
struct ConfigKeyInfo {
  std::string key;            ///< dotted path, e.g. "optim.lr"
  std::string type;           ///< "int", "float", "bool", "string", "[float, float]", "{key: float}", or "a | b"
  std::string default_value;  ///< YAML text of the default
  std::string doc;
};

/// Every key in the order a resolved config is written.
std::vector<ConfigKeyInfo> config_reference();

/// The reference as a Markdown table (key | type | default | meaning).
std::string config_reference_markdown();

/// Parses YAML text over the defaults; `source` names it in errors (a path, or "<string>").
TrainConfig train_config_from_yaml(const std::string& yaml_text, const std::string& source = "<string>");

/// Applies one `key=value` override; the value is YAML (`optim.betas=[0.9, 0.99]`,
/// `optim.lr_mult={balance: 50}`). Errors say "--set <assignment>: ...".
void apply_override(TrainConfig& config, const std::string& assignment);

/// Reads a YAML file, applies the overrides in order, validates.
TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// Checks ranges and cross-key consistency; throws naming the key.
void validate(const TrainConfig& config);

/// Every key, resolved, as YAML (reads back to an equal config).
std::string train_config_to_yaml(const TrainConfig& config);

/// Writes train_config_to_yaml() atomically (temp file + rename).
void write_train_config(const std::string& path, const TrainConfig& config);

}  // namespace btadapter::train
