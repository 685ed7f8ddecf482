// Runs alone in train_tests (a group of one) and under `mpirun -np 2|3` through the train_dp_mpi_* entries
// (tests/CMakeLists.txt, --gtest_filter=DataParallel.*): every expectation holds for any group size, and is
// bit-exact, because the data-parallel reduction is defined to be the single process's left-to-right sum.
#include "train/data_parallel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "train/lora_parameters.h"
#include "util/error.h"

namespace pagedllm {
namespace {

std::vector<LoraModuleWeights> two_modules() {
  std::vector<LoraModuleWeights> modules(2);
  modules[0] = {0, "self_attn.q_proj", 2, 5, 3, std::vector<float>(10), std::vector<float>(6)};
  modules[1] = {1, "mlp.down_proj", 2, 4, 7, std::vector<float>(8), std::vector<float>(14)};
  return modules;
}

// Micro-batch i's gradient, with magnitudes (1e8 next to fractions) whose float sum depends on the grouping.
void fill_gradient(std::vector<LoraModuleWeights>& grads, int64_t i) {
  int64_t k = 0;
  for (auto& g : grads) {
    for (auto* t : {&g.A, &g.B}) {
      for (float& v : *t) {
        v = (i % 3 == 0 ? 1e8f : 0.3f) * float(k % 5 + 1) + float(i) * 0.37f - float(k) * 1e-3f;
        ++k;
      }
    }
  }
}

// Runs one step of the reducer protocol over num_micro micro-batches (as train_step does) and returns the result.
std::vector<LoraModuleWeights> reduce_step(GradientReducer& reducer, int64_t num_micro) {
  std::vector<LoraModuleWeights> grads = two_modules();
  reducer.begin_step(num_micro);
  for (int64_t round = 0; round < reducer.num_rounds(num_micro); ++round) {
    const int64_t i = reducer.micro_batch_of(round, num_micro);
    if (i >= 0) fill_gradient(grads, i);
    reducer.reduce_round(grads, i >= 0);
  }
  reducer.finish_step(grads);
  return grads;
}

TEST(DataParallel, StepGradientIsTheLeftToRightSumOfMicroBatches) {
  Communicator& world = Communicator::world();
  GradientReducer reducer(world);
  for (const int64_t num_micro : {1, 2, 3, 4, 5}) {
    std::vector<LoraModuleWeights> expected = two_modules(), g = two_modules();
    for (int64_t i = 0; i < num_micro; ++i) {
      fill_gradient(g, i);
      for (size_t m = 0; m < g.size(); ++m) {
        for (size_t k = 0; k < g[m].A.size(); ++k) expected[m].A[k] += g[m].A[k];
        for (size_t k = 0; k < g[m].B.size(); ++k) expected[m].B[k] += g[m].B[k];
      }
    }
    // Twice: the second step must not see the first one's total.
    for (int repeat = 0; repeat < 2; ++repeat) {
      const std::vector<LoraModuleWeights> got = reduce_step(reducer, num_micro);
      for (size_t m = 0; m < got.size(); ++m) {
        ASSERT_EQ(got[m].A, expected[m].A) << num_micro << " micro-batches, module " << m;
        ASSERT_EQ(got[m].B, expected[m].B) << num_micro << " micro-batches, module " << m;
      }
    }
  }
  // One flat buffer of all 38 parameters per round, when there is someone to send it to.
  int64_t num_reduces = 0;
  for (const int64_t num_micro : {1, 2, 3, 4, 5}) num_reduces += 2 * reducer.num_rounds(num_micro);
  EXPECT_EQ(reducer.reduced_bytes(), world.size() == 1 ? 0 : num_reduces * 38 * int64_t(sizeof(float)));
}

TEST(DataParallel, MicroBatchesGoToRankIModN) {
  Communicator& world = Communicator::world();
  GradientReducer reducer(world);
  EXPECT_EQ(reducer.micro_batch_of(0, 7), world.rank() < 7 ? world.rank() : -1);
  EXPECT_EQ(reducer.micro_batch_of(1, 7), world.size() + world.rank() < 7 ? world.size() + world.rank() : -1);
}

TEST(DataParallel, SlotsAreSummedInIndexOrderOnEveryRank) {
  Communicator& world = Communicator::world();
  const std::vector<double> all = {1e17, 1.0, -1e17, 3.5, 0.25};
  std::vector<double> mine(all.size(), 0.0);
  for (size_t i = world.rank(); i < all.size(); i += world.size()) mine[i] = all[i];
  EXPECT_EQ(sum_slots_in_order(world, mine), (((1e17 + 1.0) + -1e17) + 3.5) + 0.25);
}

TEST(DataParallel, ReplicaCheckThrowsOnEveryRankWhenOneDiffers) {
  Communicator& world = Communicator::world();
  std::vector<LoraModuleWeights> modules = two_modules();
  fill_gradient(modules, 1);
  EXPECT_NO_THROW(check_replicas_agree(world, modules));
  if (world.rank() == world.size() - 1) modules[1].B[3] = std::nextafter(modules[1].B[3], 1e9f);
  if (world.size() == 1) {
    EXPECT_NO_THROW(check_replicas_agree(world, modules));  // nothing to compare with
  } else {
    EXPECT_THROW(check_replicas_agree(world, modules), Error);
  }
}

TEST(DataParallel, RanksWithOtherExamplesAreRefusedOnEveryRank) {
  Communicator& world = Communicator::world();
  std::vector<TokenizedExample> examples = {{{1, 2, 3}, {-100, 2, 3}}, {{4, 5}, {4, 5}}};
  EXPECT_NO_THROW(check_same_examples(world, examples, "training examples"));
  if (world.rank() == world.size() - 1) examples[1].labels[0] = -100;  // a label masked on one rank only
  if (world.size() == 1) {
    EXPECT_NO_THROW(check_same_examples(world, examples, "training examples"));
  } else {
    EXPECT_THROW(check_same_examples(world, examples, "training examples"), Error);
  }
}

TEST(DataParallel, ResumeStateFromRankZeroReachesEveryRank) {
  Communicator& world = Communicator::world();
  const std::string spill = std::filesystem::temp_directory_path().string();
  std::vector<LoraModuleWeights> expected_modules = two_modules(), grads = two_modules();
  fill_gradient(expected_modules, 2);
  fill_gradient(grads, 4);
  const std::vector<int64_t> sizes = parameter_sizes(expected_modules);
  // What rank 0 loaded: weights after two optimizer steps and that optimizer's state.
  PagedAdamW expected_optimizer(OptimizerKind::kAdamW32bit, sizes, {}, SIZE_MAX, spill);
  std::vector<float*> g = parameter_tensors(grads);
  for (int s = 0; s < 2; ++s) {
    expected_optimizer.step(parameter_tensors(expected_modules), {g.begin(), g.end()}, 1e-3f);
  }
  std::vector<uint8_t> expected_state;
  expected_optimizer.save_state([&](const uint8_t* d, size_t n) { expected_state.insert(expected_state.end(), d, d + n); });
  const TrainingProgress expected_progress{7, {1, 2, 3, 4}, {1, 5}};

  std::vector<LoraModuleWeights> modules = world.is_root() ? expected_modules : two_modules();
  PagedAdamW optimizer(OptimizerKind::kAdamW32bit, sizes, {}, SIZE_MAX, spill);
  TrainingProgress progress;
  if (world.is_root()) {
    optimizer.load_state(expected_optimizer.num_steps(), expected_state.data(), expected_state.size());
    progress = expected_progress;
  }
  ASSERT_TRUE(broadcast_resume_state(world, world.is_root(), modules, optimizer, progress));
  EXPECT_EQ(progress.step, 7);
  EXPECT_EQ(progress.rng_state, expected_progress.rng_state);
  EXPECT_EQ(progress.data, expected_progress.data);
  EXPECT_EQ(optimizer.num_steps(), 2);
  std::vector<uint8_t> state;
  optimizer.save_state([&](const uint8_t* d, size_t n) { state.insert(state.end(), d, d + n); });
  EXPECT_EQ(state, expected_state);
  for (size_t m = 0; m < modules.size(); ++m) {
    EXPECT_EQ(modules[m].A, expected_modules[m].A);
    EXPECT_EQ(modules[m].B, expected_modules[m].B);
  }
  // Without a checkpoint on rank 0, nobody resumes.
  EXPECT_FALSE(broadcast_resume_state(world, false, modules, optimizer, progress));
}

}  // namespace
}  // namespace pagedllm
