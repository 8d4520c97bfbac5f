#include "btadapter/io/weights_file.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

#include "btadapter/io/weight_naming.h"

namespace btadapter::io {
namespace {

constexpr const char* kConvertHint =
    "; load it in Python and save the tensors with safetensors.torch.save_file (for mmengine checkpoints, "
    "ckpt['state_dict'])";

std::vector<char> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "cannot open checkpoint '", path, "'");
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

std::string key_text(const c10::IValue& key) {
  if (key.isString()) return key.toStringRef();
  std::ostringstream text;
  text << key;
  return text.str();
}

/// Flattens a pickled value into string metadata: dicts become dotted keys, tensors are left out.
void flatten_metadata(const c10::IValue& value, const std::string& key, Metadata& out) {
  if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) {
      flatten_metadata(entry.value(), key + "." + key_text(entry.key()), out);
    }
  } else if (value.isString()) {
    out[key] = value.toStringRef();
  } else if (!value.isTensor()) {
    std::ostringstream text;
    text << value;
    out[key] = text.str();
  }
}

WeightsFile read_torch_save(const std::string& path) {
  c10::IValue root;
  try {
    root = torch::pickle_load(read_file_bytes(path));
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "cannot read torch.save file '", path, "': ", e.what_without_backtrace(), kConvertHint);
  }
  TORCH_CHECK(root.isGenericDict(), "torch.save file '", path, "': expected a dict of tensors, got ",
              root.tagKind());
  WeightsFile ckpt;
  ckpt.format = WeightsFormat::kTorchSave;
  c10::Dict<c10::IValue, c10::IValue> weights = root.toGenericDict();
  std::string weights_key;
  if (weights.contains("state_dict") && weights.at("state_dict").isGenericDict()) {
    // mmengine / open_clip training checkpoints: weights under "state_dict", the rest is metadata.
    for (const auto& entry : weights) {
      const std::string key = key_text(entry.key());
      if (key != "state_dict") flatten_metadata(entry.value(), key, ckpt.metadata);
    }
    weights = weights.at("state_dict").toGenericDict();
    weights_key = "state_dict.";
  }
  for (const auto& entry : weights) {
    TORCH_CHECK(entry.key().isString(), "torch.save file '", path, "': expected string keys, got ", entry.key());
    const std::string& key = entry.key().toStringRef();
    if (entry.value().isTensor()) ckpt.tensors[key] = entry.value().toTensor().detach();
    else flatten_metadata(entry.value(), weights_key + key, ckpt.metadata);
  }
  return ckpt;
}

WeightsFile read_torchscript(const std::string& path) {
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "cannot load TorchScript file '", path, "': ", e.what_without_backtrace());
  }
  // Stored in the OpenAI archives' state dicts as sizes for build_model, not as weights.
  static const std::array<std::string, 3> kNotWeights = {"input_resolution", "context_length", "vocab_size"};
  WeightsFile ckpt;
  ckpt.format = WeightsFormat::kTorchScript;
  auto add = [&](const std::string& name, const torch::Tensor& value) {
    if (std::find(kNotWeights.begin(), kNotWeights.end(), name) != kNotWeights.end()) return;
    torch::Tensor t = value.detach();
    // clip.load calls .float() on CPU: the released fp16 weights are used in fp32.
    ckpt.tensors[name] = t.scalar_type() == torch::kHalf ? t.to(torch::kFloat) : t;
  };
  for (const auto& p : module.named_parameters(/*recurse=*/true)) add(p.name, p.value);
  for (const auto& b : module.named_buffers(/*recurse=*/true)) add(b.name, b.value);
  return ckpt;
}

}  // namespace

const char* to_string(WeightsFormat format) {
  switch (format) {
    case WeightsFormat::kSafetensors: return "safetensors";
    case WeightsFormat::kTorchScript: return "torchscript";
    case WeightsFormat::kTorchSave: return "torch.save";
  }
  return "?";
}

WeightsFormat detect_weights_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "cannot open checkpoint '", path, "'");
  std::array<char, 9> head{};
  in.read(head.data(), head.size());
  const auto got = static_cast<size_t>(in.gcount());

  if (got >= 4 && std::memcmp(head.data(), "PK\x03\x04", 4) == 0) {
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
    try {
      reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, "checkpoint '", path, "' is a zip archive but not a PyTorch one: ",
                  e.what_without_backtrace());
    }
    if (reader->hasRecord("constants.pkl")) return WeightsFormat::kTorchScript;
    if (reader->hasRecord("data.pkl")) return WeightsFormat::kTorchSave;
    TORCH_CHECK(false, "checkpoint '", path, "' is a PyTorch zip archive with neither data.pkl nor constants.pkl");
  }
  if (got == head.size() && head[8] == '{') return WeightsFormat::kSafetensors;
  // Pickle protocol 2+ starts with 0x80: torch.save before PyTorch 1.6 (or _use_new_zipfile_serialization=False).
  TORCH_CHECK(!(got >= 1 && static_cast<unsigned char>(head[0]) == 0x80), "checkpoint '", path,
              "' is a legacy (non-zip) torch.save file, which LibTorch cannot read", kConvertHint);
  TORCH_CHECK(false, "checkpoint '", path,
              "' is not a safetensors file, TorchScript archive or torch.save zip (unrecognised first bytes)");
}

WeightsFile read_weights_file(const std::string& path, TensorReading reading) {
  switch (detect_weights_format(path)) {
    case WeightsFormat::kTorchScript: return read_torchscript(path);
    case WeightsFormat::kTorchSave: return read_torch_save(path);
    case WeightsFormat::kSafetensors: break;
  }
  WeightsFile ckpt;
  ckpt.tensors = read_safetensors(path, &ckpt.metadata, reading);
  return ckpt;
}

TensorMap read_canonical_weights(const std::string& path) {
  WeightsFile ckpt = read_weights_file(path);
  try {
    return to_canonical(ckpt.tensors);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "checkpoint '", path, "' (", to_string(ckpt.format), "): ", e.what_without_backtrace());
  }
}

}  // namespace btadapter::io
