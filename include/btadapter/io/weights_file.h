#pragma once
/// Reading weights from the containers PyTorch users ship, recognised by content (not by extension):
///
///   format        what it is                                         how it is read
///   kSafetensors  `.safetensors` (HF, our exports)                   memory-mapped (safetensors.h)
///   kTorchScript  OpenAI CLIP `.pt` (a TorchScript archive)          torch::jit::load, then named
///                                                                    parameters and buffers
///   kTorchSave    `torch.save` zip (`pytorch_model.bin`, `.pth`)     torch::pickle_load of the bytes
///
/// A torch.save file may hold a dict of tensors, or an mmengine-style dict whose "state_dict" entry holds
/// them; its other entries (e.g. "meta") may be nested dicts of plain values and are flattened into the
/// metadata as "meta.epoch" -> "1". Pickles of other Python classes (mmengine's "message_hub", numpy
/// arrays) cannot be read by LibTorch: the error says so and suggests saving `ckpt["state_dict"]` with
/// safetensors in Python. Legacy (pre-1.6, non-zip) torch.save files are rejected the same way.
///
/// TorchScript weights are converted from fp16 to fp32 (as `clip.load` does on CPU) and OpenAI's
/// non-weight `input_resolution`, `context_length` and `vocab_size` are left out. Names are returned as
/// stored; convert them with to_canonical (weight_naming.h).
///
/// Usage:
///   auto ckpt = btadapter::io::read_weights_file("ViT-B-16.pt");
///   TensorMap canonical = btadapter::io::to_canonical(ckpt.tensors);
///
/// Thread safety: free functions with no shared state.

#include "btadapter/io/safetensors.h"

#include <string>

namespace btadapter::io {

enum class WeightsFormat { kSafetensors, kTorchScript, kTorchSave };

const char* to_string(WeightsFormat format);

/// Tensors (CPU) and string metadata read from one checkpoint file.
struct WeightsFile {
  WeightsFormat format = WeightsFormat::kSafetensors;
  TensorMap tensors;
  Metadata metadata;
};

/// The container format of a file, from its first bytes and (for zip archives) its entries. Throws
/// c10::Error naming the file when it is none of the three.
WeightsFormat detect_weights_format(const std::string& path);

/// Reads every tensor of a checkpoint in any supported container. Errors name the file. `reading`
/// applies to safetensors files (the other containers are always read into owning tensors).
WeightsFile read_weights_file(const std::string& path, TensorReading reading = TensorReading::kCopies);

/// read_weights_file + to_canonical: the weights of any supported file under canonical names.
TensorMap read_canonical_weights(const std::string& path);

}  // namespace btadapter::io
