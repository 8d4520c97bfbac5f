#include "btadapter/data/sharding.h"

#include "btadapter/data/random.h"

#include <c10/util/Exception.h>

#include <numeric>

namespace btadapter::data {

std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle) {
  TORCH_CHECK(size >= 0 && epoch >= 0, "epoch_order: expected size >= 0 and epoch >= 0, got ", size, ", ", epoch);
  if (shuffle) return DataRng(DataRng::mix({seed, static_cast<uint64_t>(epoch), 0x5EEDULL})).permutation(size);
  std::vector<int64_t> order(static_cast<size_t>(size));
  std::iota(order.begin(), order.end(), int64_t{0});
  return order;
}

Shard shard_epoch(const std::vector<int64_t>& order, int64_t position, int64_t rank, int64_t world_size,
                  int64_t batch_size, bool drop_last) {
  const auto n = static_cast<int64_t>(order.size());
  TORCH_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "sharding: expected 0 <= rank < world_size, got rank ",
              rank, " of ", world_size);
  TORCH_CHECK(batch_size >= 1, "sharding: expected batch_size >= 1, got ", batch_size);
  TORCH_CHECK(position >= 0 && position <= n, "sharding: expected a position in [0, ", n, "], got ", position);
  Shard shard;
  for (int64_t p = position + rank; p < n; p += world_size) shard.indices.push_back(order[static_cast<size_t>(p)]);
  if (drop_last) {
    shard.batches = (n - position) / world_size / batch_size;
    shard.indices.resize(static_cast<size_t>(shard.batches * batch_size));
  } else {
    shard.batches = (static_cast<int64_t>(shard.indices.size()) + batch_size - 1) / batch_size;
  }
  return shard;
}

}  // namespace btadapter::data
