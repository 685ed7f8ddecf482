// Runs alone (a group of one) under ctest, and under `mpirun -np 2|3` through the dist_mpi_* entries
// (tests/CMakeLists.txt): every expectation is written for any group size.
#include "dist/communicator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace pagedllm {
namespace {

TEST(Communicator, AllReduceSumsInRankOrderOnEveryRank) {
  Communicator& world = Communicator::world();
  const int n = 1000;
  std::vector<float> values(n);
  // Values whose float sum depends on the order: 1e8 on rank 0 then small ones.
  for (int i = 0; i < n; ++i) values[i] = world.rank() == 0 ? 1e8f + i : 0.75f + float(world.rank()) * i * 1e-3f;
  world.all_reduce_sum(values.data(), n);
  for (int i = 0; i < n; ++i) {
    float expected = 1e8f + i;
    for (int r = 1; r < world.size(); ++r) expected += 0.75f + float(r) * i * 1e-3f;
    ASSERT_EQ(values[i], expected) << "element " << i;  // bit-exact: the rank-order sum
  }
}

TEST(Communicator, ScatteredAllReduceGivesTheRankOrderSumBitForBit) {
  Communicator& world = Communicator::world();
  // Lengths below, at and off a multiple of the rank count (padded slices), empty, and over one 4 Mi piece.
  for (const int n : {0, 1, 2, 3, 1001, (1 << 22) + 3}) {
    std::vector<float> values(n);
    for (int i = 0; i < n; ++i) values[i] = world.rank() == 0 ? 1e8f + i : 0.75f + float(world.rank()) * i * 1e-3f;
    std::vector<float> reference = values;
    world.all_reduce_sum(reference.data(), n);
    world.all_reduce_sum_scattered(values.data(), n);
    for (int i = 0; i < n; ++i) ASSERT_EQ(values[i], reference[i]) << "element " << i << " of " << n;
  }
}

TEST(Communicator, AllReduceOfDoubles) {
  Communicator& world = Communicator::world();
  std::vector<double> values = {double(world.rank() + 1), -2.5};
  world.all_reduce_sum(values.data(), 2);
  const int s = world.size();
  EXPECT_EQ(values[0], s * (s + 1) / 2.0);
  EXPECT_EQ(values[1], -2.5 * s);
}

TEST(Communicator, AllGatherConcatenatesInRankOrder) {
  Communicator& world = Communicator::world();
  const float mine[3] = {float(world.rank()), float(world.rank()) + 0.5f, -1.0f};
  std::vector<float> all(3 * world.size(), 99.0f);
  world.all_gather(mine, 3, all.data());
  for (int r = 0; r < world.size(); ++r) {
    EXPECT_EQ(all[3 * r], float(r));
    EXPECT_EQ(all[3 * r + 1], float(r) + 0.5f);
    EXPECT_EQ(all[3 * r + 2], -1.0f);
  }
}

TEST(Communicator, BroadcastVectorTakesRootsSizeAndContents) {
  Communicator& world = Communicator::world();
  std::vector<int32_t> ids;
  if (world.is_root()) ids = {5, 7, 11, 13};
  else ids = {1};
  world.broadcast_vector(ids);
  EXPECT_EQ(ids, (std::vector<int32_t>{5, 7, 11, 13}));
  world.barrier();
}

TEST(Communicator, AloneWithoutALauncher) {
  if (launched_by_mpi()) GTEST_SKIP() << "started by an MPI launcher";
  EXPECT_EQ(Communicator::world().size(), 1);
  EXPECT_EQ(Communicator::world().rank(), 0);
}

}  // namespace
}  // namespace pagedllm
