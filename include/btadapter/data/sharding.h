#pragma once
/// Which samples each rank reads in an epoch, like torch's DistributedSampler but without padding and
/// resumable mid-epoch.
///
/// The epoch's order is a permutation of the dataset (seeded by (seed, epoch); identity without
/// shuffling). A position p counts the samples of that order consumed by all ranks together. From p,
/// rank r reads order[p + r], order[p + r + W], order[p + r + 2W], ... (W = world size), so every
/// sample is read by exactly one rank. With drop_last every rank gets the same number of full batches,
/// floor(floor((N - p) / W) / B), so no rank waits for another at a collective; the tail (fewer than
/// W * B samples) is left out of this epoch, and with shuffling a different tail each epoch. Without
/// drop_last every remaining sample is read and the last batch may be short (ranks may then differ by
/// one batch: meant for evaluation).
///
/// After k full batches the position is p + k * B * W; resuming there continues the epoch exactly
/// (same world size), or still reads each remaining sample once (different world size).
///
/// Thread safety: pure functions.

#include <cstdint>
#include <vector>

namespace btadapter::data {

/// The epoch's order of 0..size-1.
std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle);

struct Shard {
  std::vector<int64_t> indices;  ///< dataset indices this rank reads, in order (batches are consecutive runs)
  int64_t batches = 0;           ///< number of batches (the last may be short without drop_last)
};

/// This rank's part of the epoch from `position` on.
Shard shard_epoch(const std::vector<int64_t>& order, int64_t position, int64_t rank, int64_t world_size,
                  int64_t batch_size, bool drop_last);

}  // namespace btadapter::data
