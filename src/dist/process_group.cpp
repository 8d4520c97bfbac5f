#include "btadapter/dist/process_group.h"

#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif
#ifdef BTADAPTER_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef BTADAPTER_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sstream>

namespace btadapter::dist {
namespace {

// LibTorch 2.x split c10d's ProcessGroup into a dispatching front and per-transport Backends; the
// transports (ProcessGroupGloo/NCCL) derive from Backend there and from ProcessGroup in 1.x.
#if TORCH_VERSION_MAJOR >= 2
using TransportBase = c10d::Backend;
#else
using TransportBase = c10d::ProcessGroup;
#endif

std::string message_of(const std::exception& error) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&error);
  std::string text = c10_error ? c10_error->what_without_backtrace() : error.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string seconds(std::chrono::steady_clock::duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f s", std::chrono::duration<double>(d).count());
  return buffer;
}

std::string heartbeat_key(int rank) { return "btadapter/heartbeat/" + std::to_string(rank); }

std::string connected_key(int rank) { return "btadapter/connected/" + std::to_string(rank); }

// A rank's transport is ready before its peers have finished their side of the handshake; one that
// returned and closed its group at once would cut a peer's half-read connection ("Connection closed by
// peer"). Like torch.distributed's store-based barrier, no rank leaves the rendezvous before all arrive.
void wait_for_every_rank(c10d::Store& store, int rank, int world_size) {
  store.set(connected_key(rank), std::vector<uint8_t>{1});
  std::vector<std::string> keys;
  for (int r = 0; r < world_size; ++r) keys.push_back(connected_key(r));
  try {
    store.wait(keys);
  } catch (const std::exception&) {
    std::string missing;
    for (int r = 0; r < world_size; ++r) {
      if (!store.check({connected_key(r)})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    }
    TORCH_CHECK(false, "every rank connected its transport except rank(s) ", missing);
  }
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

}  // namespace

struct ProcessGroup::Impl {
  int rank = 0;
  int world_size = 1;
  Backend backend = Backend::kGloo;
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<TransportBase> transport;  // null in a world of one
  std::atomic<int64_t> sequence{0};  // collectives may be issued from autograd threads

  std::string prefix() const {
    return "[rank " + std::to_string(rank) + "/" + std::to_string(world_size) + "] ";
  }

  // Last heartbeat of every rank, read with a short deadline (the store may live on a dead rank).
  std::string heartbeats() const {
    std::ostringstream out;
    try {
      store->setTimeout(std::min(timeout, std::chrono::milliseconds(5000)));
      for (int r = 0; r < world_size; ++r) {
        out << (r ? "; " : "") << "rank " << r << ": ";
        if (store->check({heartbeat_key(r)})) {
          auto value = store->get(heartbeat_key(r));
          out << "'" << std::string(value.begin(), value.end()) << "'";
        } else {
          out << "none";
        }
      }
    } catch (const std::exception& e) {
      out << " (rendezvous store unreachable: " << message_of(e) << ")";
    }
    return out.str();
  }

  [[noreturn]] void fail(const std::string& op, int64_t seq, std::chrono::steady_clock::time_point start,
                         const std::exception& error) const {
    TORCH_CHECK(false, prefix(), op, " #", seq, " failed after ",
                seconds(std::chrono::steady_clock::now() - start), " (collective timeout ",
                seconds(timeout), "): ", message_of(error), ". Last heartbeats: ", heartbeats(),
                ". A rank that died or stalled (bad data, a hang, a skipped collective) makes the others "
                "fail here; see the log of the rank that is behind.");
  }

  void check_tensor(const torch::Tensor& t, const char* op) const {
    TORCH_CHECK(t.defined(), prefix(), op, ": expected a defined tensor");
    const bool on_cuda = t.is_cuda();
    TORCH_CHECK(backend == Backend::kNccl ? on_cuda : !on_cuda, prefix(), op, ": backend ",
                enum_name(backend), " expects ", backend == Backend::kNccl ? "CUDA" : "CPU",
                " tensors, got a tensor on ", t.device());
  }

  // Runs a launched collective to completion, turning backend errors into the rank-naming error.
  void finish(const c10::intrusive_ptr<c10d::Work>& work, const std::string& op, int64_t seq,
              std::chrono::steady_clock::time_point start) const {
    try {
      work->wait(timeout);
    } catch (const std::exception& e) {
      fail(op, seq, start, e);
    }
  }

  template <typename Launch>
  void run(const std::string& op, Launch&& launch) {
    const int64_t seq = ++sequence;
    const auto start = std::chrono::steady_clock::now();
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = launch();
    } catch (const std::exception& e) {
      fail(op, seq, start, e);
    }
    finish(work, op, seq, start);
  }
};

struct PendingCollective::State {
  std::shared_ptr<ProcessGroup::Impl> impl;
  c10::intrusive_ptr<c10d::Work> work;  // null when there was nothing to do
  int64_t sequence = 0;
  std::chrono::steady_clock::time_point start;
  bool done = false;
};

PendingCollective::PendingCollective(std::shared_ptr<State> state) : state_(std::move(state)) {}

void PendingCollective::wait() {
  if (!state_ || state_->done) return;
  state_->done = true;
  if (state_->work) state_->impl->finish(state_->work, "all_reduce", state_->sequence, state_->start);
}

bool backend_available(Backend backend) {
#ifdef BTADAPTER_HAVE_GLOO
  if (backend == Backend::kGloo) return true;
#endif
#ifdef BTADAPTER_HAVE_NCCL
  if (backend == Backend::kNccl) return true;
#endif
  return false;
}

ProcessGroup::ProcessGroup(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

int ProcessGroup::rank() const { return impl_->rank; }
int ProcessGroup::world_size() const { return impl_->world_size; }
Backend ProcessGroup::backend() const { return impl_->backend; }
std::chrono::milliseconds ProcessGroup::timeout() const { return impl_->timeout; }

void ProcessGroup::all_reduce_sum(torch::Tensor& tensor) { all_reduce_sum_async(tensor).wait(); }

PendingCollective ProcessGroup::all_reduce_sum_async(torch::Tensor tensor) {
  auto state = std::make_shared<PendingCollective::State>();
  state->impl = impl_;
  if (!impl_->transport) return PendingCollective(state);
  impl_->check_tensor(tensor, "all_reduce");
  TORCH_CHECK(tensor.is_contiguous(), impl_->prefix(), "all_reduce: expected a contiguous tensor");
  state->sequence = ++impl_->sequence;
  state->start = std::chrono::steady_clock::now();
  try {
    std::vector<at::Tensor> tensors{tensor};
    state->work = impl_->transport->allreduce(tensors);
  } catch (const std::exception& e) {
    impl_->fail("all_reduce", state->sequence, state->start, e);
  }
  return PendingCollective(state);
}

torch::Tensor ProcessGroup::all_gather(const torch::Tensor& tensor) {
  if (!impl_->transport) return tensor;
  impl_->check_tensor(tensor, "all_gather");
  std::vector<at::Tensor> inputs{tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < impl_->world_size; ++r) outputs[0].push_back(torch::empty_like(inputs[0]));
  impl_->run("all_gather", [&] { return impl_->transport->allgather(outputs, inputs); });
  return torch::cat(outputs[0], 0);
}

void ProcessGroup::broadcast(torch::Tensor& tensor, int root) {
  TORCH_CHECK(root >= 0 && root < impl_->world_size, impl_->prefix(), "broadcast: root ", root,
              " outside [0, ", impl_->world_size, ")");
  if (!impl_->transport) return;
  impl_->check_tensor(tensor, "broadcast");
  TORCH_CHECK(tensor.is_contiguous(), impl_->prefix(), "broadcast: expected a contiguous tensor");
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  impl_->run("broadcast", [&] { return impl_->transport->broadcast(tensors, options); });
}

void ProcessGroup::barrier() {
  if (!impl_->transport) return;
  // An all-reduce of one element on the backend's device: NCCL's own barrier guesses the device.
  auto device = impl_->backend == Backend::kNccl ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  std::vector<at::Tensor> tensors{torch::zeros({1}, torch::TensorOptions().device(device))};
  impl_->run("barrier", [&] { return impl_->transport->allreduce(tensors); });
}

void ProcessGroup::heartbeat(const std::string& phase) {
  if (!impl_->store) return;
  impl_->store->set(heartbeat_key(impl_->rank), std::vector<uint8_t>(phase.begin(), phase.end()));
}

namespace {

c10::intrusive_ptr<TransportBase> make_transport(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                 int world_size, const ProcessGroupOptions& options,
                                                 const std::string& host) {
  TORCH_CHECK(backend_available(options.backend()), "distributed backend '", enum_name(options.backend()),
              "' is not available in this build of libbtadapter",
              options.backend() == Backend::kNccl ? " (it needs a CUDA LibTorch with NCCL headers)" : "");
#ifdef BTADAPTER_HAVE_NCCL
  if (options.backend() == Backend::kNccl) {
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = options.timeout();
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, nccl_options);
  }
#endif
#ifdef BTADAPTER_HAVE_GLOO
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout());
  if (const char* iface = std::getenv("GLOO_SOCKET_IFNAME")) {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
  } else if (is_loopback(host)) {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, gloo_options);
#else
  (void)store, (void)rank, (void)world_size, (void)host;
  TORCH_CHECK(false, "unreachable: no distributed backend compiled in");
#endif
}

std::shared_ptr<ProcessGroup> connect(std::function<c10::intrusive_ptr<c10d::Store>()> make_store,
                                      const std::string& rendezvous, const std::string& host, int rank,
                                      int world_size, const ProcessGroupOptions& options) {
  TORCH_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "process group: expected 0 <= rank < ",
              "world_size, got rank ", rank, " of ", world_size);
  auto impl = std::make_shared<ProcessGroup::Impl>();
  impl->rank = rank;
  impl->world_size = world_size;
  impl->backend = options.backend();
  impl->timeout = options.timeout();
  try {
    impl->store = make_store();
    impl->store->setTimeout(options.timeout());
    impl->transport = make_transport(impl->store, rank, world_size, options, host);
    wait_for_every_rank(*impl->store, rank, world_size);
  } catch (const std::exception& e) {
    TORCH_CHECK(false, impl->prefix(), "rendezvous at ", rendezvous, " failed (timeout ",
                seconds(options.timeout()), "): ", message_of(e), ". Check that all ", world_size,
                " ranks started and can reach the address.");
  }
  return std::make_shared<ProcessGroup>(impl);
}

}  // namespace

std::shared_ptr<ProcessGroup> make_single_process_group() {
  auto impl = std::make_shared<ProcessGroup::Impl>();
  return std::make_shared<ProcessGroup>(impl);
}

std::shared_ptr<ProcessGroup> init_process_group(const DistEnvironment& env, const ProcessGroupOptions& options) {
  if (!env.distributed()) return make_single_process_group();
  auto make_store = [&]() -> c10::intrusive_ptr<c10d::Store> {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0;
    store_options.numWorkers = static_cast<size_t>(env.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = options.timeout();
    return c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  };
  const std::string rendezvous = "tcp://" + env.master_addr + ":" + std::to_string(env.master_port);
  return connect(make_store, rendezvous, env.master_addr, env.rank, env.world_size, options);
}

std::shared_ptr<ProcessGroup> init_process_group_with_file(const std::string& path, int rank, int world_size,
                                                           const ProcessGroupOptions& options) {
  if (world_size == 1) return make_single_process_group();
  auto make_store = [&]() -> c10::intrusive_ptr<c10d::Store> {
    return c10::make_intrusive<c10d::FileStore>(path, world_size);
  };
  return connect(make_store, "file://" + path, "127.0.0.1", rank, world_size, options);
}

void broadcast_tensors(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, int root) {
  if (group.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  for (torch::Tensor t : tensors) {
    TORCH_CHECK(t.is_contiguous(), "broadcast_tensors: expected contiguous tensors");
    group.broadcast(t, root);
  }
}

}  // namespace btadapter::dist
