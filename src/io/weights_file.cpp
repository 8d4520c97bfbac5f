#include "btadapter/io/weights_file.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

#include "btadapter/io/torch_save.h"
#include "btadapter/io/weight_naming.h"
#include "btadapter/io/zip_reader.h"

namespace btadapter::io {
namespace {

constexpr const char* kConvertHint =
    "; load it in Python and save the tensors with safetensors.torch.save_file (for mmengine checkpoints, "
    "ckpt['state_dict'])";

WeightsFile read_torch_save(const std::string& path) {
  TorchSaveContents contents = read_torch_save_file(path);
  WeightsFile ckpt;
  ckpt.format = WeightsFormat::kTorchSave;
  ckpt.tensors = std::move(contents.tensors);
  ckpt.metadata = std::move(contents.metadata);
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
    in.seekg(0);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::string prefix;
    try {
      const ZipArchive zip(bytes, path);
      const std::string& first = zip.names().empty() ? prefix : zip.names().front();
      prefix = first.substr(0, first.find('/') + 1);
      // TorchScript archives are read by torch::jit::load: every record is checked here first.
      if (zip.has(prefix + "constants.pkl")) {
        for (const auto& name : zip.names()) {
          if (!zip.compressed(name)) zip.record(name);  // deflated code: jit::load inflates and checks it
        }
        return WeightsFormat::kTorchScript;
      }
      if (zip.has(prefix + "data.pkl")) return WeightsFormat::kTorchSave;
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, "checkpoint '", path, "' is a zip archive but not a readable PyTorch one: ",
                  e.what_without_backtrace());
    }
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
