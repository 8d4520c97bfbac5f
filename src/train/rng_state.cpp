#include "btadapter/train/rng_state.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <mutex>

#include "btadapter/dist/gather.h"

namespace btadapter::train {
namespace {

torch::Tensor generator_state(c10::Device device) {
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state().clone();
}

void set_generator_state(c10::Device device, const torch::Tensor& state) {
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

int64_t cuda_devices() { return torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0; }

}  // namespace

RngState capture_rng_state() {
  RngState state;
  state.cpu = generator_state(c10::Device(c10::kCPU));
  for (int64_t i = 0; i < cuda_devices(); ++i) {
    state.cuda.push_back(generator_state(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i))));
  }
  return state;
}

void restore_rng_state(const RngState& state) {
  TORCH_CHECK(state.cpu.defined(), "restore_rng_state: the state has no CPU generator state");
  TORCH_CHECK(static_cast<int64_t>(state.cuda.size()) == cuda_devices(), "restore_rng_state: the state holds ",
              state.cuda.size(), " CUDA generator states, this process sees ", cuda_devices(), " CUDA devices");
  set_generator_state(c10::Device(c10::kCPU), state.cpu);
  for (size_t i = 0; i < state.cuda.size(); ++i) {
    set_generator_state(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i)), state.cuda[i]);
  }
}

std::vector<RngState> gather_rng_states(dist::ProcessGroup& group) {
  RngState mine = capture_rng_state();
  if (group.world_size() == 1) return {mine};
  // Two varying-length gathers: the byte length of each generator state, then all bytes.
  std::vector<torch::Tensor> parts{mine.cpu};
  parts.insert(parts.end(), mine.cuda.begin(), mine.cuda.end());
  std::vector<int64_t> lengths;
  for (const auto& p : parts) lengths.push_back(p.numel());
  auto device = group.backend() == dist::Backend::kNccl ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  auto all_lengths = dist::all_gather_varying(torch::tensor(lengths, torch::kLong).to(device), group);
  auto all_bytes = dist::all_gather_varying(torch::cat(parts).to(device), group);
  std::vector<RngState> out(group.world_size());
  for (int r = 0; r < group.world_size(); ++r) {
    auto sizes = all_lengths[r].cpu();
    auto bytes = all_bytes[r].cpu();
    int64_t offset = 0;
    for (int64_t k = 0; k < sizes.numel(); ++k) {
      const int64_t n = sizes[k].item<int64_t>();
      auto state = bytes.narrow(0, offset, n).clone();
      offset += n;
      if (k == 0) out[r].cpu = state;
      else out[r].cuda.push_back(state);
    }
  }
  return out;
}

}  // namespace btadapter::train
