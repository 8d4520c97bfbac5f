#include "btadapter/train/train_config.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <type_traits>

#include "btadapter/io/atomic_file.h"
#include "btadapter/train/lr_schedule.h"
#include "config_codec.h"

namespace btadapter::train {
namespace {

using detail::Codec;
using detail::describe;

// One registered key: its type, its doc string, and how to read and write it in a TrainConfig.
struct Field {
  std::string key;
  std::string type;
  std::string doc;
  std::function<void(TrainConfig&, const YAML::Node&)> set;
  std::function<YAML::Node(const TrainConfig&)> get;
};

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
  return out;
}

// `access` is a generic lambda returning a reference to the member, for const and non-const configs;
// `choices` restricts a string key to a fixed set of values.
template <typename Access>
void add(std::vector<Field>& fields, std::string key, std::string doc, Access access,
         std::vector<std::string> choices = {}) {
  using T = std::decay_t<decltype(access(std::declval<TrainConfig&>()))>;
  Field f;
  f.key = std::move(key);
  f.type = choices.empty() ? Codec<T>::type() : join(choices, " | ");
  f.doc = std::move(doc);
  f.set = [access, choices](TrainConfig& c, const YAML::Node& node) {
    T value = Codec<T>::decode(node);
    if constexpr (std::is_same_v<T, std::string>) {
      TORCH_CHECK(choices.empty() || std::count(choices.begin(), choices.end(), value), "not a choice");
    }
    access(c) = value;
  };
  f.get = [access](const TrainConfig& c) { return Codec<T>::encode(access(c)); };
  fields.push_back(std::move(f));
}

#define BT_KEY(key, member, doc) add(f, key, doc, [](auto& c) -> auto& { return c.member; })
#define BT_CHOICE(key, member, doc, ...) \
  add(f, key, doc, [](auto& c) -> auto& { return c.member; }, std::vector<std::string>{__VA_ARGS__})

std::vector<Field> make_fields() {
  std::vector<Field> f;
  BT_KEY("model.clip", model.clip, "CLIP weights: HF folder, .safetensors/.bin, OpenAI .pt, or a btadapter model file");
  BT_KEY("model.random_clip", model.random_clip, "start from a randomly initialised CLIP of the configured sizes instead of model.clip (demos, tests)");
  BT_KEY("model.train_clip", model.train_clip, "train every parameter, CLIP included (e.g. an image-text CLIP stage with adapter depth 0)");
  BT_KEY("model.gradient_checkpointing", model.gradient_checkpointing, "recompute adapter layers during backward to save memory");
  BT_KEY("model.embed_dim", model.config.embed_dim, "joint embedding size (sizes are read from model.clip when set)");
  BT_KEY("model.vision.width", model.config.vision.width, "vision hidden size");
  BT_KEY("model.vision.layers", model.config.vision.layers, "vision transformer blocks");
  BT_KEY("model.vision.heads", model.config.vision.heads, "vision attention heads");
  BT_KEY("model.vision.patch_size", model.config.vision.patch_size, "patch side in pixels");
  BT_KEY("model.vision.image_size", model.config.vision.image_size, "input resolution (frames are resized/cropped to it)");
  BT_KEY("model.vision.mlp_dim", model.config.vision.mlp_dim, "vision MLP hidden size");
  BT_KEY("model.vision.layer_norm_eps", model.config.vision.layer_norm_eps, "vision LayerNorm epsilon");
  BT_KEY("model.text.vocab_size", model.config.text.vocab_size, "token embedding rows");
  BT_KEY("model.text.width", model.config.text.width, "text hidden size");
  BT_KEY("model.text.layers", model.config.text.layers, "text transformer blocks");
  BT_KEY("model.text.heads", model.config.text.heads, "text attention heads");
  BT_KEY("model.text.context_length", model.config.text.context_length, "text positions the tower was trained with");
  BT_KEY("model.text.mlp_dim", model.config.text.mlp_dim, "text MLP hidden size");
  BT_KEY("model.text.layer_norm_eps", model.config.text.layer_norm_eps, "text LayerNorm epsilon");
  BT_KEY("model.text.pooling", model.config.text.pooling, "text feature position: largest id (CLIP) or first EOS");
  BT_KEY("model.text.eos_id", model.config.text.eos_id, "EOS id used by first_eos pooling");
  BT_KEY("model.adapter.depth", model.config.adapter.depth, "branch layers, fed by the last `depth` CLIP layers");
  BT_KEY("model.adapter.fusion", model.config.adapter.fusion, "branch/CLIP fusion: learned sigmoid gates or plain addition");
  BT_KEY("model.adapter.out_norm", model.config.adapter.out_norm, "scale inside the output gate's sigmoid");
  BT_KEY("model.adapter.middle_norm", model.config.adapter.middle_norm, "scale inside the middle gate's sigmoid");
  BT_KEY("model.adapter.max_frames", model.config.adapter.max_frames, "rows of the temporal embedding");
  BT_KEY("model.adapter.drop_path", model.config.adapter.drop_path, "drop-path rate of the last branch layer");
  BT_KEY("model.adapter.mask_layout", model.config.adapter.mask_layout, "tube mask: the paper's tube, or the released code's token order");
  BT_KEY("model.adapter.mask_ratio", model.config.adapter.mask_ratio, "fraction of spatial positions masked in the branch");
  BT_CHOICE("model.tokenizer.kind", model.config.tokenizer.kind, "tokenizer", "clip_bpe", "sentencepiece");
  BT_KEY("model.tokenizer.vocab", model.config.tokenizer.vocab, "vocabulary file ('' = the one beside model.clip)");
  BT_KEY("model.tokenizer.context_length", model.config.tokenizer.context_length, "ids per caption after padding");
  BT_KEY("model.tokenizer.truncate", model.config.tokenizer.truncate, "'openai' or 'official:N' (cut to N after tokenizing, may drop EOT)");
  BT_KEY("model.tokenizer.bos_id", model.config.tokenizer.bos_id, "id before each caption: -1 the vocabulary's own, -2 none");
  BT_KEY("model.tokenizer.eos_id", model.config.tokenizer.eos_id, "id after each caption: -1 the vocabulary's own, -2 none");

  BT_KEY("data.format", data.format, "training annotation format");
  BT_KEY("data.annotations", data.annotations, "training annotation file");
  BT_KEY("data.video_root", data.video_root, "folder that video paths are relative to");
  BT_KEY("data.num_frames", data.num_frames, "frames sampled per clip");
  BT_CHOICE("data.sampling", data.sampling, "which frames: 'uniform' = the official UniformSample (random per segment), "
            "'start' = the first num_frames frames (an image stage that should see where a motion starts)",
            "uniform", "start");
  BT_KEY("data.crop_min_area", data.crop_min_area, "smallest RandomResizedCrop area fraction (0.08 official; 1 keeps "
         "the whole frame, for data where position matters)");
  BT_KEY("data.batch_size", data.batch_size, "clips per process and step (global batch = this x world size)");
  BT_KEY("data.num_workers", data.num_workers, "decoding threads per process");
  BT_KEY("data.shuffle", data.shuffle, "reshuffle the training set every epoch");

  BT_KEY("loss.vtc_weight", loss.vtc_weight, "weight of the video-text contrastive loss (VTC)");
  BT_KEY("loss.mbca_weight", loss.mbca_weight, "weight of the branch-text contrastive loss (MBCA)");
  BT_KEY("loss.mbta_weight", loss.mbta_weight, "weight of the masked branch-token distillation (MBTA)");
  BT_KEY("loss.tau", loss.tau, "fixed contrastive temperature (logit scale 1/tau)");
  BT_CHOICE("loss.gather", loss.gather, "cross-rank gradient of gathered features: 'sum' equals single-process training, "
         "'official' reweights contrastive losses by 1/world_size like the released code", "sum", "official");

  BT_KEY("optim.lr", optim.lr, "base (peak) learning rate");
  BT_KEY("optim.betas", optim.betas, "AdamW betas");
  BT_KEY("optim.eps", optim.eps, "AdamW epsilon");
  BT_KEY("optim.weight_decay", optim.weight_decay, "decoupled weight decay (all trainable parameters)");
  BT_KEY("optim.lr_mult", optim.lr_mult, "learning-rate multipliers by name substring, longest match wins (replaces the whole set)");
  BT_KEY("optim.grad_clip", optim.grad_clip, "max global L2 gradient norm, 0 = no clipping");

  BT_KEY("schedule.epochs", schedule.epochs, "training epochs");
  BT_KEY("schedule.max_steps", schedule.max_steps, "stop after this many optimizer steps, 0 = no limit (smoke runs)");
  BT_KEY("schedule.warmup_epochs", schedule.warmup_epochs, "linear warm-up length in epochs");
  BT_KEY("schedule.warmup_start_factor", schedule.warmup_start_factor, "learning-rate factor at the first step");
  BT_KEY("schedule.cosine_epochs", schedule.cosine_epochs, "cosine period T_max in epochs (starts at the warm-up end)");
  BT_KEY("schedule.cosine_end_epoch", schedule.cosine_end_epoch, "epoch at which the cosine stops");
  BT_KEY("schedule.min_lr_factor", schedule.min_lr_factor, "cosine floor relative to the peak");

  BT_KEY("run.output_dir", run.output_dir, "checkpoints, resolved config.yaml and train_log.jsonl go here");
  BT_CHOICE("run.device", run.device, "compute device (cuda = this rank's LOCAL_RANK GPU)", "auto", "cpu", "cuda");
  BT_CHOICE("run.precision", run.precision, "autocast precision; auto = bf16 on CUDA, fp32 on CPU (bf16 on CPU: fast with AVX-512 BF16)", "auto", "bf16", "fp32");
  BT_KEY("run.seed", run.seed, "base random seed (rank r uses seed + r)");
  BT_KEY("run.log_every", run.log_every, "steps between progress lines and JSONL records");
  BT_KEY("run.text_cache_mb", run.text_cache_mb, "bound of the frozen text-feature cache in MiB, 0 = off");
  BT_KEY("run.cpu_threads", run.cpu_threads, "CPU runs: LibTorch intra-op threads, 0 = automatic (cores / local processes with oneDNN GEMMs, else 1; or OMP_NUM_THREADS)");
  BT_KEY("run.blas_threads", run.blas_threads, "CPU runs: BLAS threads, 0 = automatic (1 with oneDNN GEMMs, else cores / local processes; or OPENBLAS_NUM_THREADS)");
  BT_KEY("run.keep_freed_memory", run.keep_freed_memory, "CPU runs: keep freed memory in the process (no page faults on reuse)");

  BT_CHOICE("dist.backend", dist.backend, "collective transport; auto = nccl on CUDA, gloo on CPU", "auto", "gloo", "nccl");
  BT_KEY("dist.timeout_s", dist.timeout_s, "rendezvous and collective deadline; a stalled rank fails the others after it");
  BT_KEY("dist.bucket_mb", dist.bucket_mb, "gradient all-reduce bucket size in MiB");
  BT_KEY("dist.overlap", dist.overlap, "start bucket all-reduces during backward");

  BT_KEY("checkpoint.every_steps", checkpoint.every_steps, "save every N steps (and always at the end), 0 = only at the end");
  BT_KEY("checkpoint.keep_last", checkpoint.keep_last, "checkpoints kept on disk (older ones are deleted)");
  BT_KEY("checkpoint.resume", checkpoint.resume, "'auto' = newest valid checkpoint in run.output_dir, 'none', or a path");

  BT_KEY("eval.every_steps", eval.every_steps, "retrieval validation every N steps, 0 = only at the end");
  BT_KEY("eval.at_end", eval.at_end, "validate after the last step");
  BT_KEY("eval.format", eval.format, "validation annotation format");
  BT_KEY("eval.annotations", eval.annotations, "validation annotation file, '' = no validation");
  BT_KEY("eval.video_root", eval.video_root, "validation video folder");
  BT_KEY("eval.num_frames", eval.num_frames, "frames per validation clip");
  BT_KEY("eval.text_truncate", eval.text_truncate, "tokenizer truncation at validation ('official:32' in the recipe)");
  BT_KEY("eval.batch_size", eval.batch_size, "clips per validation forward");

  BT_KEY("instruct.llm", instruct.llm, "bt_instruct: frozen LLaMA (HF folder, or a weight file with config.json beside it)");
  BT_KEY("instruct.clip", instruct.clip, "bt_instruct: CLIP vision weights of the video tower");
  BT_KEY("instruct.adapter", instruct.adapter, "bt_instruct: initial BT-Adapter weights (pretraining checkpoint or sft file)");
  BT_KEY("instruct.projector", instruct.projector, "bt_instruct: initial mm_projector weights");
  BT_KEY("instruct.tokenizer", instruct.tokenizer, "bt_instruct: LLaMA tokenizer.model, '' = beside the LLM");
  BT_KEY("instruct.annotations", instruct.annotations, "bt_instruct: VideoChatGPT instruction JSON");
  BT_KEY("instruct.features", instruct.features, "bt_instruct: folder of pre-extracted features (<video stem>.safetensors)");
  BT_KEY("instruct.max_length", instruct.max_length, "bt_instruct: model context in tokens; longer samples are cut and counted");
  return f;
}

#undef BT_KEY
#undef BT_CHOICE

const std::vector<Field>& fields() {
  static const std::vector<Field> registry = make_fields();
  return registry;
}

const Field* find_field(const std::string& key) {
  for (const auto& f : fields()) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

bool is_section(const std::string& key) {
  const std::string prefix = key + ".";
  return std::any_of(fields().begin(), fields().end(), [&](const Field& f) { return f.key.rfind(prefix, 0) == 0; });
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string& key) {
  const Field* best = nullptr;
  size_t best_distance = 4;  // suggest only near misses
  for (const auto& f : fields()) {
    const size_t d = edit_distance(key, f.key);
    if (d < best_distance) best = &f, best_distance = d;
  }
  return best ? " (did you mean '" + best->key + "'?)" : "";
}

[[noreturn]] void unknown_key(const std::string& where, const std::string& key) {
  TORCH_CHECK(false, where, ": unknown key '", key, "'", suggestion(key));
}

void set_field(const Field& f, TrainConfig& config, const YAML::Node& node, const std::string& where) {
  bool ok = true;
  try {
    f.set(config, node);
  } catch (const YAML::Exception&) {
    ok = false;
  } catch (const c10::Error&) {
    ok = false;
  }
  TORCH_CHECK(ok, where, ": key '", f.key, "' expects ", f.type, ", got ", describe(node));
}

void apply_node(TrainConfig& config, const YAML::Node& node, const std::string& prefix, const std::string& where) {
  if (node.IsNull() && prefix.empty()) return;  // an empty file: all defaults
  TORCH_CHECK(node.IsMap(), where, ": expected a mapping at '", prefix.empty() ? "top level" : prefix, "', got ",
              describe(node));
  for (const auto& item : node) {
    const std::string name = item.first.as<std::string>();
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    if (const Field* f = find_field(key)) {
      set_field(*f, config, item.second, where);
    } else if (is_section(key)) {
      apply_node(config, item.second, key, where);
    } else {
      unknown_key(where, key);
    }
  }
}

YAML::Node parse_yaml(const std::string& text, const std::string& where) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    TORCH_CHECK(false, where, ": invalid YAML at line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg);
  }
}

std::string emit(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

}  // namespace

std::vector<ConfigKeyInfo> config_reference() {
  const TrainConfig defaults;
  std::vector<ConfigKeyInfo> out;
  for (const auto& f : fields()) out.push_back({f.key, f.type, emit(f.get(defaults)), f.doc});
  return out;
}

std::string config_reference_markdown() {
  std::ostringstream out;
  out << "| key | type | default | meaning |\n| --- | --- | --- | --- |\n";
  for (const auto& k : config_reference()) {
    std::string value = k.default_value;
    std::replace(value.begin(), value.end(), '\n', ' ');
    out << "| `" << k.key << "` | " << k.type << " | `" << value << "` | " << k.doc << " |\n";
  }
  return out.str();
}

TrainConfig train_config_from_yaml(const std::string& yaml_text, const std::string& source) {
  TrainConfig config;
  apply_node(config, parse_yaml(yaml_text, source), "", source);
  return config;
}

void apply_override(TrainConfig& config, const std::string& assignment) {
  const std::string where = "--set " + assignment;
  const auto eq = assignment.find('=');
  TORCH_CHECK(eq != std::string::npos && eq > 0, where, ": expected key=value");
  const std::string key = assignment.substr(0, eq);
  const Field* f = find_field(key);
  if (f == nullptr) {
    TORCH_CHECK(!is_section(key), where, ": '", key, "' is a section; set one of its keys (e.g. '",
                std::find_if(fields().begin(), fields().end(), [&](const Field& x) { return x.key.rfind(key + ".", 0) == 0; })->key,
                "')");
    unknown_key(where, key);
  }
  set_field(*f, config, parse_yaml(assignment.substr(eq + 1), where), where);
}

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    TORCH_CHECK(false, "cannot read config file '", path, "'");
  } catch (const YAML::Exception& e) {
    TORCH_CHECK(false, path, ": invalid YAML at line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg);
  }
  TrainConfig config;
  apply_node(config, root, "", path);
  for (const auto& assignment : overrides) apply_override(config, assignment);
  validate(config);
  return config;
}

namespace {

void require(bool ok, const char* key, const std::string& expected, const std::string& got) {
  TORCH_CHECK(ok, "config key '", key, "': expected ", expected, ", got ", got);
}

void require_positive(double value, const char* key) {
  require(std::isfinite(value) && value > 0, key, "a positive number", detail::format_double(value));
}

void require_non_negative(double value, const char* key) {
  require(std::isfinite(value) && value >= 0, key, "a number >= 0", detail::format_double(value));
}

void require_at_least(int64_t value, int64_t least, const char* key) {
  require(value >= least, key, "an integer >= " + std::to_string(least), std::to_string(value));
}

}  // namespace

void validate(const TrainConfig& c) {
  btadapter::validate(c.model.config);
  require_at_least(c.data.num_frames, 1, "data.num_frames");
  require(c.data.num_frames <= c.model.config.adapter.max_frames, "data.num_frames",
          "at most model.adapter.max_frames (" + std::to_string(c.model.config.adapter.max_frames) + ")",
          std::to_string(c.data.num_frames));
  require_at_least(c.data.batch_size, 1, "data.batch_size");
  require_at_least(c.data.num_workers, 0, "data.num_workers");
  require(c.data.crop_min_area > 0 && c.data.crop_min_area <= 1, "data.crop_min_area", "a fraction in (0, 1]",
          detail::format_double(c.data.crop_min_area));
  require_non_negative(c.loss.vtc_weight, "loss.vtc_weight");
  require_non_negative(c.loss.mbca_weight, "loss.mbca_weight");
  require_non_negative(c.loss.mbta_weight, "loss.mbta_weight");
  require_positive(c.loss.tau, "loss.tau");
  require_positive(c.optim.lr, "optim.lr");
  for (double beta : c.optim.betas) {
    require(beta >= 0 && beta < 1, "optim.betas", "values in [0, 1)", detail::format_double(beta));
  }
  require_positive(c.optim.eps, "optim.eps");
  require_non_negative(c.optim.weight_decay, "optim.weight_decay");
  require_non_negative(c.optim.grad_clip, "optim.grad_clip");
  for (const auto& rule : c.optim.lr_mult) {
    require(std::isfinite(rule.lr_mult) && rule.lr_mult >= 0 && std::isfinite(rule.decay_mult) && rule.decay_mult >= 0,
            "optim.lr_mult", "multipliers >= 0", "'" + rule.key + "'");
  }
  require_at_least(c.schedule.epochs, 1, "schedule.epochs");
  require_at_least(c.schedule.max_steps, 0, "schedule.max_steps");
  WarmupCosineSchedule(WarmupCosineOptions(1)  // checks the schedule.* keys; messages name them
                           .warmup_epochs(c.schedule.warmup_epochs)
                           .warmup_start_factor(c.schedule.warmup_start_factor)
                           .cosine_epochs(c.schedule.cosine_epochs)
                           .cosine_end_epoch(c.schedule.cosine_end_epoch)
                           .min_factor(c.schedule.min_lr_factor));
  require(!c.run.output_dir.empty(), "run.output_dir", "a folder", "''");
  require_at_least(c.run.log_every, 1, "run.log_every");
  require_at_least(c.run.text_cache_mb, 0, "run.text_cache_mb");
  require_at_least(c.run.cpu_threads, 0, "run.cpu_threads");
  require_at_least(c.run.blas_threads, 0, "run.blas_threads");
  require_positive(c.dist.timeout_s, "dist.timeout_s");
  require_positive(c.dist.bucket_mb, "dist.bucket_mb");
  require_at_least(c.checkpoint.every_steps, 0, "checkpoint.every_steps");
  require_at_least(c.checkpoint.keep_last, 1, "checkpoint.keep_last");
  require(!c.checkpoint.resume.empty(), "checkpoint.resume", "'auto', 'none' or a path", "''");
  // eval.annotations '' turns validation off: the rest of the section is then unused and not checked.
  if (!c.eval.annotations.empty()) {
    require_at_least(c.eval.every_steps, 0, "eval.every_steps");
    require_at_least(c.eval.num_frames, 1, "eval.num_frames");
    require(c.eval.num_frames <= c.model.config.adapter.max_frames, "eval.num_frames",
            "at most model.adapter.max_frames (" + std::to_string(c.model.config.adapter.max_frames) + ")",
            std::to_string(c.eval.num_frames));
    require_at_least(c.eval.batch_size, 1, "eval.batch_size");
  }
  require_at_least(c.instruct.max_length, 2, "instruct.max_length");
}

std::string train_config_to_yaml(const TrainConfig& config) {
  YAML::Emitter out;
  out << YAML::Comment("bt_pretrain configuration, every key resolved (bt_pretrain --help-config documents them)");
  out << YAML::BeginMap;
  std::vector<std::string> open;  // sections currently open, outermost first
  for (const auto& f : fields()) {
    std::vector<std::string> parts;
    std::stringstream stream(f.key);
    for (std::string part; std::getline(stream, part, '.');) parts.push_back(part);
    size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
    for (; open.size() > common; open.pop_back()) out << YAML::EndMap;
    for (; open.size() + 1 < parts.size(); open.push_back(parts[open.size()])) {
      out << YAML::Key << parts[open.size()] << YAML::Value << YAML::BeginMap;
    }
    out << YAML::Key << parts.back() << YAML::Value << f.get(config);
  }
  for (; !open.empty(); open.pop_back()) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void write_train_config(const std::string& path, const TrainConfig& config) {
  io::write_file_atomically(path, train_config_to_yaml(config));
}

}  // namespace btadapter::train
