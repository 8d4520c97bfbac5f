#include <gtest/gtest.h>

#include <map>

#include "btadapter/dist/environment.h"
#include "support/test_support.h"

using namespace btadapter::dist;
using btadapter::testing::expect_error;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST(DistEnvironment, NothingSetIsASingleProcess) {
  auto env = environment_from_env(env_of({}));
  EXPECT_EQ(env.source, LaunchSource::kSingle);
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_FALSE(env.distributed());
}

TEST(DistEnvironment, TorchrunVariables) {
  auto env = environment_from_env(env_of({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"},
                                          {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29600"}}));
  EXPECT_EQ(env.source, LaunchSource::kTorchrun);
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node7");
  EXPECT_EQ(env.master_port, 29600);
}

TEST(DistEnvironment, TorchrunErrorsNameTheVariable) {
  expect_error(
      [&] {
        environment_from_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "h"}}));
      },
      "MASTER_PORT is not set");
  expect_error(
      [&] {
        environment_from_env(env_of({{"RANK", "x1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}));
      },
      "RANK: expected an integer, got 'x1'");
  expect_error(
      [&] {
        environment_from_env(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}));
      },
      "RANK: expected a rank in [0, 2), got 2");
  expect_error(
      [&] {
        environment_from_env(env_of(
            {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}));
      },
      "MASTER_PORT: expected a TCP port in 1..65535, got 70000");
  expect_error([&] { environment_from_env(env_of({{"WORLD_SIZE", "1"}})); }, "RANK is not set");
}

TEST(DistEnvironment, SlurmUsesTheFirstNodeAndAJobPort) {
  auto env = environment_from_env(env_of({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "1"},
                                          {"SLURM_JOB_NODELIST", "gpu[07-09,12]"}, {"SLURM_JOB_ID", "123456"}}));
  EXPECT_EQ(env.source, LaunchSource::kSlurm);
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 16);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "gpu07");
  EXPECT_EQ(env.master_port, 20000 + 123456 % 20000);
}

TEST(DistEnvironment, SlurmHonoursMasterAddrAndTheOlderNodelistName) {
  auto env = environment_from_env(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "0"},
                                          {"SLURM_NODELIST", "a1,b2"}, {"MASTER_ADDR", "10.0.0.2"},
                                          {"MASTER_PORT", "1234"}}));
  EXPECT_EQ(env.master_addr, "10.0.0.2");
  EXPECT_EQ(env.master_port, 1234);
  auto older = environment_from_env(
      env_of({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "0"}, {"SLURM_NODELIST", "a1,b2"}}));
  EXPECT_EQ(older.master_addr, "a1");
  EXPECT_EQ(older.master_port, 29500);
  expect_error(
      [&] {
        environment_from_env(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "0"}}));
      },
      "neither MASTER_ADDR nor SLURM_JOB_NODELIST");
}

TEST(DistEnvironment, TorchrunWinsOverSlurm) {
  auto env = environment_from_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"LOCAL_RANK", "0"},
                                          {"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}}));
  EXPECT_EQ(env.source, LaunchSource::kTorchrun);
  EXPECT_EQ(env.world_size, 1);
}

TEST(SlurmNodelist, FirstHost) {
  EXPECT_EQ(first_slurm_host("node5"), "node5");
  EXPECT_EQ(first_slurm_host("gpu[07-09,12],cpu3"), "gpu07");
  EXPECT_EQ(first_slurm_host("gpu[12,07-09]"), "gpu12");
  EXPECT_EQ(first_slurm_host("rack[1-2]-n[01-04]"), "rack1-n01");
  EXPECT_EQ(first_slurm_host("a1,b[2-3]"), "a1");
  EXPECT_EQ(first_slurm_host("n[001]x"), "n001x");
}

TEST(SlurmNodelist, MalformedListsAreErrors) {
  for (const std::string bad : {"gpu[07-09", "gpu]1", "", ",a", "gpu[]"}) {
    expect_error([&] { first_slurm_host(bad); }, "SLURM node list '" + bad + "': ");
  }
}
