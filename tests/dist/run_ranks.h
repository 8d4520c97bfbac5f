#pragma once
// Runs a data-parallel test body as `world_size` ranks, one thread each, every thread with its own Gloo
// process group over a FileStore in a scratch folder (no TCP ports to collide between parallel tests).
// Exceptions from any rank are re-thrown on the calling thread (the first by rank).

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "btadapter/dist/process_group.h"
#include "support/test_support.h"

namespace btadapter::testing {

using RankBody = std::function<void(int rank, std::shared_ptr<dist::ProcessGroup> group)>;

inline void run_ranks(int world_size, const RankBody& body,
                      dist::ProcessGroupOptions options = dist::ProcessGroupOptions().timeout(
                          std::chrono::seconds(60))) {
  TempDir dir;
  const std::string store = (dir / "store").string();
  std::vector<std::exception_ptr> errors(world_size);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world_size; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        auto group = dist::init_process_group_with_file(store, rank, world_size, options);
        body(rank, group);
      } catch (...) {
        errors[rank] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

/// Fills every parameter of `module` with a fixed pattern. Rank threads share torch's global generator,
/// so seeding it per thread would race; this gives identical weights on every rank without it.
inline void deterministic_init(torch::nn::Module& module, double salt = 0.0) {
  torch::NoGradGuard no_grad;
  double phase = salt;
  for (auto& p : module.parameters()) {
    p.copy_(0.5 * torch::sin(torch::arange(p.numel(), p.options()) * 0.7 + phase).view_as(p));
    phase += 1.3;
  }
}

/// The message of a rank's error (a c10::Error without its C++ backtrace).
inline std::string error_text(const std::exception_ptr& error) {
  return error_of([&] { std::rethrow_exception(error); });
}

}  // namespace btadapter::testing
