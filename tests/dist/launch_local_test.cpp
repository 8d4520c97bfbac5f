#include <gtest/gtest.h>

#include "support/test_support.h"

using btadapter::testing::run_command;
using btadapter::testing::source_dir;

namespace {

std::string launcher() { return (source_dir() / "scripts" / "launch_local.sh").string(); }

}  // namespace

TEST(LaunchLocal, StartsNProcessesWithTorchrunVariables) {
  auto result = run_command(launcher() + " 3 sh -c 'echo \"r=$RANK l=$LOCAL_RANK w=$WORLD_SIZE lw=$LOCAL_WORLD_SIZE " +
                            "a=$MASTER_ADDR p=${MASTER_PORT:+set}\"'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (int rank = 0; rank < 3; ++rank) {
    const std::string expected = "[rank " + std::to_string(rank) + "] r=" + std::to_string(rank) +
                                 " l=" + std::to_string(rank) + " w=3 lw=3 a=127.0.0.1 p=set";
    EXPECT_NE(result.output.find(expected), std::string::npos) << result.output;
  }
}

TEST(LaunchLocal, AFailingRankStopsTheOthersAndSetsTheExitStatus) {
  // Rank 0 would run forever; rank 1 fails at once.
  auto result = run_command(launcher() + " 2 sh -c 'if [ $RANK = 1 ]; then exit 3; fi; exec tail -f /dev/null'");
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("launch_local: rank 1 exited with status 3; stopping the others"), std::string::npos)
      << result.output;
}

TEST(LaunchLocal, BadUsageIsReported) {
  auto result = run_command(launcher() + " zero echo");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("usage:"), std::string::npos) << result.output;
}
