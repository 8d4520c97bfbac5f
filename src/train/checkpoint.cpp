#include "btadapter/train/checkpoint.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/serialize.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <type_traits>

#include "btadapter/io/atomic_file.h"

namespace btadapter::train {
namespace {

namespace fs = std::filesystem;
using TensorMap = std::map<std::string, torch::Tensor>;
using Metadata = std::map<std::string, std::string>;

constexpr const char* kCheckpointFormat = "btadapter-checkpoint";
constexpr const char* kVersion = "1";

// LibTorch keys optimizer state by the parameter's TensorImpl: as its printed address in 1.x, as the
// pointer itself in later releases. Derive the key the way the installed version does.
template <typename Map>
typename Map::key_type state_key(const Map&, const torch::Tensor& param) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream out;
    out << param.unsafeGetTensorImpl();
    return out.str();
  } else {
    return static_cast<Key>(param.unsafeGetTensorImpl());
  }
}

torch::Tensor cpu_copy(const torch::Tensor& t) { return t.detach().to(torch::kCPU, false, true); }

// The container format: (tensors, metadata) through torch::pickle_save. It maps one to one onto a
// safetensors file (tensors + string metadata), the intended format once io/safetensors lands.
void write_container(const std::string& path, const TensorMap& tensors, const Metadata& metadata) {
  c10::Dict<std::string, at::Tensor> tensor_dict;
  for (const auto& [name, t] : tensors) tensor_dict.insert(name, t.contiguous());
  c10::Dict<std::string, std::string> metadata_dict;
  for (const auto& [key, value] : metadata) metadata_dict.insert(key, value);
  const std::vector<char> bytes = torch::pickle_save(c10::ivalue::Tuple::create({tensor_dict, metadata_dict}));
  io::write_file_atomically(path, std::string_view(bytes.data(), bytes.size()));
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

void read_container(const std::string& path, TensorMap& tensors, Metadata& metadata) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "cannot open checkpoint '", path, "'");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue root;
  try {
    root = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "checkpoint '", path, "' is unreadable (truncated or corrupt): ",
                first_line(e.what_without_backtrace()));
  }
  TORCH_CHECK(root.isTuple() && root.toTupleRef().elements().size() == 2 && root.toTupleRef().elements()[0].isGenericDict() &&
                  root.toTupleRef().elements()[1].isGenericDict(),
              "checkpoint '", path, "' is not a btadapter checkpoint (expected a (tensors, metadata) tuple)");
  for (const auto& item : root.toTupleRef().elements()[0].toGenericDict()) {
    tensors[item.key().toStringRef()] = item.value().toTensor();
  }
  for (const auto& item : root.toTupleRef().elements()[1].toGenericDict()) {
    metadata[item.key().toStringRef()] = item.value().toStringRef();
  }
}

std::string progress_json(const TrainingProgress& p) {
  return nlohmann::json{{"step", p.step}, {"epoch", p.epoch}, {"samples_seen", p.samples_seen}, {"world_size", p.world_size}}
      .dump();
}

TrainingProgress parse_progress(const Metadata& metadata, const std::string& path) {
  auto field = [&](const char* key) -> const std::string& {
    auto it = metadata.find(key);
    TORCH_CHECK(it != metadata.end(), "checkpoint '", path, "' has no '", key, "' metadata");
    return it->second;
  };
  TORCH_CHECK(field("format") == kCheckpointFormat, "checkpoint '", path, "' is not a btadapter checkpoint (format '",
              field("format"), "')");
  TORCH_CHECK(field("version") == kVersion, "checkpoint '", path, "' has format version ", field("version"),
              ", this build reads version ", kVersion);
  TrainingProgress p;
  try {
    auto j = nlohmann::json::parse(field("progress"));
    p.step = j.at("step").get<int64_t>();
    p.epoch = j.at("epoch").get<int64_t>();
    p.samples_seen = j.at("samples_seen").get<int64_t>();
    p.world_size = j.at("world_size").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    TORCH_CHECK(false, "checkpoint '", path, "': bad 'progress' metadata: ", e.what());
  }
  p.loader_state = field("loader_state");
  p.config_yaml = field("config");
  return p;
}

// "rng/<rank>/cpu" or "rng/<rank>/cuda<i>" into checkpoint.rng.
void add_rng_tensor(Checkpoint& c, const std::string& name, const torch::Tensor& t, const std::string& path) {
  static const std::regex pattern(R"(rng/(\d+)/(cpu|cuda(\d+)))");
  std::smatch m;
  TORCH_CHECK(std::regex_match(name, m, pattern), "checkpoint '", path, "': unexpected tensor '", name, "'");
  const size_t rank = std::stoul(m[1].str());
  if (c.rng.size() <= rank) c.rng.resize(rank + 1);
  if (m[2] == "cpu") {
    c.rng[rank].cpu = t;
    return;
  }
  const size_t device = std::stoul(m[3].str());
  if (c.rng[rank].cuda.size() <= device) c.rng[rank].cuda.resize(device + 1);
  c.rng[rank].cuda[device] = t;
}

}  // namespace

Checkpoint capture_checkpoint(const NamedTensors& trainable, const torch::optim::AdamW& optimizer,
                              TrainingProgress progress, std::vector<RngState> rng) {
  Checkpoint c;
  c.progress = std::move(progress);
  c.rng = std::move(rng);
  const auto& state = optimizer.state();
  size_t optimizer_params = 0;
  for (const auto& group : optimizer.param_groups()) optimizer_params += group.params().size();
  TORCH_CHECK(optimizer_params == trainable.size(), "capture_checkpoint: the optimizer holds ", optimizer_params,
              " parameters, the trainable set has ", trainable.size());
  for (const auto& item : trainable) {
    const auto& name = item.key();
    c.params[name] = cpu_copy(item.value());
    auto it = state.find(state_key(state, item.value()));
    if (it == state.end()) continue;  // never stepped
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    c.optimizer[name + "/exp_avg"] = cpu_copy(s.exp_avg());
    c.optimizer[name + "/exp_avg_sq"] = cpu_copy(s.exp_avg_sq());
    c.optimizer[name + "/step"] = torch::tensor(s.step(), torch::kLong);
    if (s.max_exp_avg_sq().defined()) c.optimizer[name + "/max_exp_avg_sq"] = cpu_copy(s.max_exp_avg_sq());
  }
  return c;
}

void restore_checkpoint(const Checkpoint& c, const NamedTensors& trainable, torch::optim::AdamW& optimizer) {
  // Check everything first so that a mismatch leaves the live objects untouched.
  for (const auto& item : trainable) {
    auto it = c.params.find(item.key());
    TORCH_CHECK(it != c.params.end(), "checkpoint has no parameter '", item.key(), "' (was the model changed?)");
    TORCH_CHECK(it->second.sizes() == item.value().sizes(), "checkpoint parameter '", item.key(), "' has shape ",
                it->second.sizes(), ", the model's is ", item.value().sizes());
  }
  for (const auto& [name, value] : c.params) {
    TORCH_CHECK(trainable.contains(name), "checkpoint parameter '", name, "' is not a trainable parameter of the model");
  }
  for (const auto& [key, value] : c.optimizer) {
    TORCH_CHECK(trainable.contains(key.substr(0, key.rfind('/'))), "checkpoint optimizer state '", key,
                "' belongs to no trainable parameter");
  }
  torch::NoGradGuard no_grad;
  auto& state = optimizer.state();
  for (const auto& item : trainable) {
    const auto& name = item.key();
    auto param = item.value();
    param.copy_(c.params.at(name));
    const auto key = state_key(state, param);
    state.erase(key);
    auto step = c.optimizer.find(name + "/step");
    if (step == c.optimizer.end()) continue;
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(step->second.item<int64_t>());
    s->exp_avg(c.optimizer.at(name + "/exp_avg").to(param.options()));
    s->exp_avg_sq(c.optimizer.at(name + "/exp_avg_sq").to(param.options()));
    auto max_sq = c.optimizer.find(name + "/max_exp_avg_sq");
    if (max_sq != c.optimizer.end()) s->max_exp_avg_sq(max_sq->second.to(param.options()));
    state[key] = std::move(s);
  }
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  TensorMap tensors;
  for (const auto& [name, t] : c.params) tensors["param/" + name] = t;
  for (const auto& [key, t] : c.optimizer) tensors["optim/" + key] = t;
  for (size_t r = 0; r < c.rng.size(); ++r) {
    const std::string prefix = "rng/" + std::to_string(r) + "/";
    if (c.rng[r].cpu.defined()) tensors[prefix + "cpu"] = c.rng[r].cpu;
    for (size_t i = 0; i < c.rng[r].cuda.size(); ++i) tensors[prefix + "cuda" + std::to_string(i)] = c.rng[r].cuda[i];
  }
  Metadata metadata{{"format", kCheckpointFormat},
                    {"version", kVersion},
                    {"progress", progress_json(c.progress)},
                    {"loader_state", c.progress.loader_state},
                    {"config", c.progress.config_yaml}};
  write_container(path, tensors, metadata);
}

Checkpoint read_checkpoint(const std::string& path) {
  TensorMap tensors;
  Metadata metadata;
  read_container(path, tensors, metadata);
  Checkpoint c;
  c.progress = parse_progress(metadata, path);
  for (const auto& [name, t] : tensors) {
    if (name.rfind("param/", 0) == 0) c.params[name.substr(6)] = t;
    else if (name.rfind("optim/", 0) == 0) c.optimizer[name.substr(6)] = t;
    else add_rng_tensor(c, name, t, path);
  }
  return c;
}

CheckpointManager::CheckpointManager(CheckpointManagerOptions options) : options_(std::move(options)) {
  TORCH_CHECK(options_.keep_last() >= 1, "checkpoint.keep_last: expected >= 1, got ", options_.keep_last());
}

std::string CheckpointManager::file_name(int64_t step) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "checkpoint-%08lld.pt", static_cast<long long>(step));
  return buffer;
}

std::vector<std::string> CheckpointManager::list() const {
  static const std::regex pattern(R"(checkpoint-(\d+)\.pt)");
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.directory(), ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (entry.is_regular_file() && std::regex_match(name, m, pattern)) found.emplace_back(std::stoll(m[1].str()), entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& item : found) out.push_back(std::move(item.second));
  return out;
}

std::string CheckpointManager::save(const Checkpoint& checkpoint) const {
  const std::string path = (fs::path(options_.directory()) / file_name(checkpoint.progress.step)).string();
  write_checkpoint(path, checkpoint);
  auto all = list();
  for (size_t i = 0; i + options_.keep_last() < all.size(); ++i) {
    std::error_code ignored;  // an old file that cannot be removed does not fail the save
    fs::remove(all[i], ignored);
  }
  return path;
}

std::optional<LoadedCheckpoint> CheckpointManager::load_latest(std::vector<std::string>* skipped) const {
  auto all = list();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      return LoadedCheckpoint{*it, read_checkpoint(*it)};
    } catch (const c10::Error& e) {
      if (skipped) skipped->push_back(*it + ": " + first_line(e.what_without_backtrace()));
    }
  }
  return std::nullopt;
}

}  // namespace btadapter::train
