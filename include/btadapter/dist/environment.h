#pragma once
/// Where a training process learns its rank, the world size and the rendezvous address.
///
/// Three launch modes, tried in this order:
///   - torchrun (or scripts/launch_local.sh): `RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`,
///     `MASTER_PORT`. Once `RANK` or `WORLD_SIZE` is set, all five must be (MASTER_* only when
///     WORLD_SIZE > 1).
///   - SLURM (`srun`): `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`; the master is `MASTER_ADDR` when
///     set, else the first host of `SLURM_JOB_NODELIST` (or `SLURM_NODELIST`); the port is `MASTER_PORT`
///     when set, else 20000 + SLURM_JOB_ID % 20000 so that two jobs sharing a node do not collide.
///   - otherwise a single process (rank 0 of 1).
///
/// Example:
///   auto env = btadapter::dist::environment_from_env();
///   auto group = btadapter::dist::init_process_group(env, ProcessGroupOptions());
///
/// Thread safety: pure functions; environment_from_env() reads the process environment (getenv).

#include "btadapter/config/enum_names.h"
#include <functional>
#include <optional>
#include <string>

namespace btadapter::dist {

/// Which launcher set the variables.
enum class LaunchSource { kSingle, kTorchrun, kSlurm };

/// One process's place in the job.
struct DistEnvironment {
  int rank = 0;                            ///< global rank; default 0
  int world_size = 1;                      ///< number of processes; default 1
  int local_rank = 0;                      ///< rank on this node (picks the GPU); default 0
  std::string master_addr = "127.0.0.1";   ///< host of rank 0's rendezvous store; default 127.0.0.1
  int master_port = 29500;                 ///< its TCP port; default 29500
  LaunchSource source = LaunchSource::kSingle;  ///< default single process

  bool distributed() const { return world_size > 1; }
};

/// Looks up one environment variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// Reads the process environment (see the file comment for the rules). Bad values (non-integers,
/// rank outside [0, world_size), ports outside 1..65535, missing companions) raise c10::Error naming
/// the variable and what was expected.
DistEnvironment environment_from_env();

/// Same, from an injected lookup (tests).
DistEnvironment environment_from_env(const EnvLookup& lookup);

/// The first host of a SLURM node list: "gpu[07-09,12],cpu3" -> "gpu07", "rack[1-2]-n[01-04]" ->
/// "rack1-n01", "node5" -> "node5". Zero padding is kept as written. Throws on unbalanced brackets or an
/// empty list.
std::string first_slurm_host(const std::string& nodelist);

}  // namespace btadapter::dist

namespace btadapter {

template <>
struct EnumNames<dist::LaunchSource> {
  static constexpr const char* kWhat = "launcher";
  static constexpr std::array<std::pair<dist::LaunchSource, const char*>, 3> kNames{{
      {dist::LaunchSource::kSingle, "single"},
      {dist::LaunchSource::kTorchrun, "torchrun"},
      {dist::LaunchSource::kSlurm, "slurm"}}};
};

}  // namespace btadapter
