#pragma once
/// A process group over c10d (the communication layer under torch.distributed), with the few
/// collectives data-parallel training needs, deadline-bounded and with errors that name the ranks.
///
/// Gloo moves CPU tensors (and is what the tests use); NCCL moves CUDA tensors and exists only when
/// libbtadapter was built against a CUDA LibTorch that ships NCCL headers (BTADAPTER_HAVE_NCCL).
/// A world of one needs no rendezvous: make_single_process_group() turns every collective into a no-op.
///
/// Every rank must issue the same collectives in the same order (c10d's rule). A collective that does
/// not finish within `timeout` (a peer died, stalls on bad data, or skipped the call) raises c10::Error:
///   "[rank 0/2] all_reduce #7 failed after 2.0 s (collective timeout 2.0 s): <backend error>.
///    Last heartbeats: rank 0: 'step 12 compute'; rank 1: none. ..."
/// The heartbeats are short phase labels each rank posts to the rendezvous store (heartbeat()); they
/// tell which rank is behind. With NCCL, CUDA LibTorch 2.x additionally aborts a stuck process from its
/// watchdog after `timeout` (TORCH_NCCL_ASYNC_ERROR_HANDLING), with its own message naming the rank.
///
/// Example:
///   auto group = dist::init_process_group(dist::environment_from_env(),
///                                         dist::ProcessGroupOptions().timeout(std::chrono::minutes(10)));
///   torch::Tensor t = torch::ones({4});
///   group->all_reduce_sum(t);            // t == world_size everywhere
///
/// Thread safety: one thread issues the collectives of a group (as with c10d); PendingCollective::wait()
/// may run on another thread. Separate groups are independent (tests run one group per thread).

#include "btadapter/config/enum_names.h"
#include <torch/arg.h>
#include <torch/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "btadapter/dist/environment.h"

namespace btadapter::dist {

/// The c10d transport.
enum class Backend {
  kGloo,  ///< CPU tensors, TCP
  kNccl,  ///< CUDA tensors (CUDA builds only)
};

/// Whether this build can create groups with `backend`.
bool backend_available(Backend backend);

struct ProcessGroupOptions {
  /// Transport; default Gloo.
  TORCH_ARG(Backend, backend) = Backend::kGloo;
  /// Deadline of the rendezvous and of every collective; default 30 minutes.
  TORCH_ARG(std::chrono::milliseconds, timeout) = std::chrono::minutes(30);
};

/// An asynchronous collective in flight. wait() blocks until it finishes and throws the same
/// rank-naming error as the blocking calls. Waiting twice is allowed (the second returns at once).
class PendingCollective {
 public:
  struct State;
  explicit PendingCollective(std::shared_ptr<State> state);
  void wait();

 private:
  std::shared_ptr<State> state_;
};

class ProcessGroup {
 public:
  struct Impl;
  explicit ProcessGroup(std::shared_ptr<Impl> impl);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  Backend backend() const;
  std::chrono::milliseconds timeout() const;

  /// Sums `tensor` in place across ranks (blocking). Contiguous tensor on the backend's device.
  void all_reduce_sum(torch::Tensor& tensor);
  /// Starts the same sum and returns at once; the tensor must stay alive and untouched until wait().
  PendingCollective all_reduce_sum_async(torch::Tensor tensor);
  /// Concatenates every rank's `tensor` along dim 0 in rank order: [n, ...] -> [world_size * n, ...].
  /// All ranks must pass the same shape and dtype (see gather.h for differing batch sizes).
  torch::Tensor all_gather(const torch::Tensor& tensor);
  /// Copies `root`'s tensor into every rank's `tensor` in place.
  void broadcast(torch::Tensor& tensor, int root);
  /// Returns once every rank has called barrier().
  void barrier();
  /// Posts a short label of what this rank is doing (e.g. "step 12 data"); read back only when a
  /// collective fails, to name the rank that is behind. One store write; no-op in a world of one.
  void heartbeat(const std::string& phase);

 private:
  std::shared_ptr<Impl> impl_;
};

/// A world of one: every collective returns its input unchanged, without communication.
std::shared_ptr<ProcessGroup> make_single_process_group();

/// Rendezvous through a TCP store at env.master_addr:master_port (rank 0 hosts it), then builds the
/// backend. A world of one returns make_single_process_group(). For NCCL, set the current CUDA device
/// (env.local_rank) before calling. Fails with a rank-naming error when peers do not arrive in time.
std::shared_ptr<ProcessGroup> init_process_group(const DistEnvironment& env,
                                                 const ProcessGroupOptions& options = {});

/// Rendezvous through a file on a shared file system (all ranks pass the same path, which must not hold
/// a store from an earlier run). Used by the tests; also works across nodes on NFS.
std::shared_ptr<ProcessGroup> init_process_group_with_file(const std::string& path, int rank,
                                                           int world_size,
                                                           const ProcessGroupOptions& options = {});

/// Broadcasts every tensor from `root` in place (start-of-training weight sync). No-op for one rank.
void broadcast_tensors(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, int root = 0);

}  // namespace btadapter::dist

namespace btadapter {

template <>
struct EnumNames<dist::Backend> {
  static constexpr const char* kWhat = "distributed backend";
  static constexpr std::array<std::pair<dist::Backend, const char*>, 2> kNames{{
      {dist::Backend::kGloo, "gloo"},
      {dist::Backend::kNccl, "nccl"}}};
};

}  // namespace btadapter
