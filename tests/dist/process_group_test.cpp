#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "btadapter/dist/process_group.h"
#include "dist/run_ranks.h"
#include "support/test_support.h"

using namespace btadapter;
using btadapter::testing::error_text;
using btadapter::testing::expect_error;
using btadapter::testing::run_ranks;

namespace {

dist::ProcessGroupOptions short_timeout(int ms) {
  return dist::ProcessGroupOptions().timeout(std::chrono::milliseconds(ms));
}

// A TCP port that was free a moment ago (the kernel picks it).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST(ProcessGroup, SingleProcessCollectivesAreIdentities) {
  auto group = dist::make_single_process_group();
  EXPECT_EQ(group->rank(), 0);
  EXPECT_EQ(group->world_size(), 1);
  auto t = torch::arange(4.0);
  group->all_reduce_sum(t);
  EXPECT_TRUE(torch::equal(t, torch::arange(4.0)));
  EXPECT_TRUE(torch::equal(group->all_gather(t), t));
  group->broadcast(t, 0);
  group->barrier();
  group->heartbeat("anything");
  expect_error([&] { group->broadcast(t, 1); }, "broadcast: root 1 outside [0, 1)");
}

TEST(ProcessGroup, CollectivesAcrossThreeRanks) {
  run_ranks(3, [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    ASSERT_EQ(group->rank(), rank);
    ASSERT_EQ(group->world_size(), 3);
    auto sum = torch::full({2, 3}, static_cast<double>(rank + 1));
    group->all_reduce_sum(sum);
    EXPECT_TRUE(torch::equal(sum, torch::full({2, 3}, 6.0)));

    auto gathered = group->all_gather(torch::full({2}, static_cast<int64_t>(rank), torch::kLong));
    EXPECT_TRUE(torch::equal(gathered, torch::tensor({0, 0, 1, 1, 2, 2}, torch::kLong)));

    auto value = torch::full({3}, static_cast<float>(rank * 10));
    group->broadcast(value, 2);
    EXPECT_TRUE(torch::equal(value, torch::full({3}, 20.0f)));

    auto pending = group->all_reduce_sum_async(torch::ones({5}));
    pending.wait();
    pending.wait();  // a second wait returns at once
    group->barrier();
  });
}

TEST(ProcessGroup, BroadcastTensorsSyncsParameters) {
  run_ranks(2, [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    torch::nn::Linear layer(3, 2);
    btadapter::testing::deterministic_init(*layer, rank);
    dist::broadcast_tensors(*group, layer->parameters(), 0);
    torch::nn::Linear expected(3, 2);
    btadapter::testing::deterministic_init(*expected, 0);
    EXPECT_TRUE(torch::equal(layer->weight, expected->weight));
    EXPECT_TRUE(torch::equal(layer->bias, expected->bias));
  });
}

TEST(ProcessGroup, TcpRendezvousFromTheEnvironment) {
  const int port = free_port();
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(2);
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        dist::DistEnvironment env;
        env.rank = rank;
        env.world_size = 2;
        env.master_addr = "127.0.0.1";
        env.master_port = port;
        auto group = dist::init_process_group(env, short_timeout(30000));
        auto t = torch::full({1}, 1.0);
        group->all_reduce_sum(t);
        EXPECT_EQ(t.item<double>(), 2.0);
      } catch (...) {
        errors[rank] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) EXPECT_FALSE(e) << error_text(e);
}

TEST(ProcessGroup, WrongDeviceOrBackendIsAClearError) {
  EXPECT_EQ(btadapter::enum_from_name<dist::Backend>("gloo"), dist::Backend::kGloo);
  expect_error([&] { btadapter::enum_from_name<dist::Backend>("mpi"); }, "'mpi'");
  EXPECT_TRUE(dist::backend_available(dist::Backend::kGloo));
}

// One rank never joins the collective: the other gets an error within the short timeout that names
// itself and, through the heartbeats, where the missing rank is.
TEST(ProcessGroup, StalledRankTimesOutWithANamedError) {
  std::promise<void> failed;
  auto failed_future = failed.get_future().share();
  run_ranks(
      2,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        if (rank == 1) {
          group->heartbeat("step 3 data");
          failed_future.wait();  // stays alive (connections open) but never joins
          return;
        }
        group->heartbeat("step 4 compute");
        auto t = torch::ones({4});
        expect_error([&] { group->all_reduce_sum(t); },
                     {"[rank 0/2] all_reduce #1 failed after", "collective timeout 2.0 s",
                      "rank 0: 'step 4 compute'; rank 1: 'step 3 data'"});
        failed.set_value();
      },
      short_timeout(2000));
}

// A peer that goes away (its group destroyed, like a crashed process closing its sockets).
TEST(ProcessGroup, DeadPeerIsAnErrorNotAHang) {
  run_ranks(
      2,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        group->barrier();
        if (rank == 1) return;  // `group` dies with this scope
        auto t = torch::ones({1000});
        expect_error(
            [&] {
              for (int i = 0; i < 3; ++i) group->all_reduce_sum(t);
            },
            "[rank 0/2] all_reduce");
      },
      short_timeout(2000));
}

TEST(ProcessGroup, MissingPeerFailsTheRendezvous) {
  btadapter::testing::TempDir dir;
  expect_error([&] { dist::init_process_group_with_file((dir / "store").string(), 0, 2, short_timeout(1000)); },
               {"[rank 0/2] rendezvous at file://", "Check that all 2 ranks started"});
}
