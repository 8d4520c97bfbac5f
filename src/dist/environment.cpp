#include "btadapter/dist/environment.h"

#include <c10/util/Exception.h>

#include <cstdlib>

namespace btadapter::dist {
namespace {

// Strict integer parse: the whole value must be a base-10 integer within int range.
int parse_int(const std::string& name, const std::string& value) {
  size_t used = 0;
  long long parsed = 0;
  try {
    parsed = std::stoll(value, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  TORCH_CHECK(used == value.size() && !value.empty() && parsed >= INT32_MIN && parsed <= INT32_MAX,
              "environment variable ", name, ": expected an integer, got '", value, "'");
  return static_cast<int>(parsed);
}

class Reader {
 public:
  explicit Reader(const EnvLookup& lookup) : lookup_(lookup) {}

  bool has(const std::string& name) const { return lookup_(name).has_value(); }

  std::string required(const std::string& name, const std::string& because) const {
    auto value = lookup_(name);
    TORCH_CHECK(value && !value->empty(), "environment variable ", name, " is not set (", because, ")");
    return *value;
  }

  int required_int(const std::string& name, const std::string& because) const {
    return parse_int(name, required(name, because));
  }

  std::optional<std::string> optional(const std::string& name) const {
    auto value = lookup_(name);
    if (value && value->empty()) return std::nullopt;
    return value;
  }

 private:
  const EnvLookup& lookup_;
};

void check_ranks(const DistEnvironment& env, const char* rank_var, const char* world_var) {
  TORCH_CHECK(env.world_size >= 1, "environment variable ", world_var, ": expected >= 1, got ",
              env.world_size);
  TORCH_CHECK(env.rank >= 0 && env.rank < env.world_size, "environment variable ", rank_var,
              ": expected a rank in [0, ", env.world_size, "), got ", env.rank);
  TORCH_CHECK(env.local_rank >= 0, "local rank: expected >= 0, got ", env.local_rank);
}

int parse_port(const std::string& name, const std::string& value) {
  int port = parse_int(name, value);
  TORCH_CHECK(port >= 1 && port <= 65535, "environment variable ", name,
              ": expected a TCP port in 1..65535, got ", port);
  return port;
}

DistEnvironment from_torchrun(const Reader& env) {
  const std::string why = "torchrun-style launch: RANK or WORLD_SIZE is set";
  DistEnvironment out;
  out.source = LaunchSource::kTorchrun;
  out.rank = env.required_int("RANK", why);
  out.world_size = env.required_int("WORLD_SIZE", why);
  out.local_rank = env.required_int("LOCAL_RANK", why);
  check_ranks(out, "RANK", "WORLD_SIZE");
  if (out.distributed()) {
    out.master_addr = env.required("MASTER_ADDR", why);
    out.master_port = parse_port("MASTER_PORT", env.required("MASTER_PORT", why));
  }
  return out;
}

DistEnvironment from_slurm(const Reader& env) {
  const std::string why = "SLURM launch: SLURM_PROCID is set";
  DistEnvironment out;
  out.source = LaunchSource::kSlurm;
  out.rank = env.required_int("SLURM_PROCID", why);
  out.world_size = env.required_int("SLURM_NTASKS", why);
  out.local_rank = env.required_int("SLURM_LOCALID", why);
  check_ranks(out, "SLURM_PROCID", "SLURM_NTASKS");
  if (!out.distributed()) return out;
  if (auto addr = env.optional("MASTER_ADDR")) {
    out.master_addr = *addr;
  } else {
    auto nodes = env.optional("SLURM_JOB_NODELIST");
    if (!nodes) nodes = env.optional("SLURM_NODELIST");
    TORCH_CHECK(nodes, "SLURM launch: neither MASTER_ADDR nor SLURM_JOB_NODELIST/SLURM_NODELIST is set");
    out.master_addr = first_slurm_host(*nodes);
  }
  if (auto port = env.optional("MASTER_PORT")) {
    out.master_port = parse_port("MASTER_PORT", *port);
  } else if (auto job = env.optional("SLURM_JOB_ID")) {
    out.master_port = 20000 + parse_int("SLURM_JOB_ID", *job) % 20000;
  }
  return out;
}

// The first value of a bracket range list such as "07-09,12" (kept as written, zero padding included).
std::string first_in_range_list(const std::string& ranges, const std::string& nodelist) {
  size_t end = ranges.find_first_of(",-");
  std::string first = ranges.substr(0, end);
  TORCH_CHECK(!first.empty(), "SLURM node list '", nodelist, "': empty bracket range");
  return first;
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  std::string host;
  size_t i = 0;
  // Copy characters until the first comma outside brackets; each bracket group becomes its first value.
  while (i < nodelist.size() && nodelist[i] != ',') {
    if (nodelist[i] == '[') {
      size_t close = nodelist.find(']', i);
      TORCH_CHECK(close != std::string::npos, "SLURM node list '", nodelist, "': unbalanced '['");
      host += first_in_range_list(nodelist.substr(i + 1, close - i - 1), nodelist);
      i = close + 1;
    } else {
      TORCH_CHECK(nodelist[i] != ']', "SLURM node list '", nodelist, "': unbalanced ']'");
      host += nodelist[i++];
    }
  }
  TORCH_CHECK(!host.empty(), "SLURM node list '", nodelist, "': no host");
  return host;
}

DistEnvironment environment_from_env(const EnvLookup& lookup) {
  Reader env(lookup);
  if (env.has("RANK") || env.has("WORLD_SIZE")) return from_torchrun(env);
  if (env.has("SLURM_PROCID")) return from_slurm(env);
  return DistEnvironment{};
}

DistEnvironment environment_from_env() {
  return environment_from_env([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace btadapter::dist
