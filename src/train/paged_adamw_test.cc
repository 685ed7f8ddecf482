#include "train/paged_adamw.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

// Tensor sizes like a small model's LoRA A/B: some under the 8-bit minimum, some over, partial last blocks.
const std::vector<int64_t> kSizes = {4096 + 100, 300, 8192, 17};

struct TrainedParams {
  std::vector<std::vector<float>> params;
  size_t num_evictions = 0;
};

TrainedParams train(OptimizerKind kind, size_t budget, int num_steps) {
  PagedAdamW optimizer(kind, kSizes, AdamWOptions{0.9f, 0.999f, 1e-8f, 0.01f}, budget, ::testing::TempDir(), 4096);
  Rng rng(21);
  TrainedParams run;
  for (int64_t n : kSizes) run.params.emplace_back(n, 0.5f);
  std::vector<std::vector<float>> grads;
  for (int64_t n : kSizes) grads.emplace_back(n);
  for (int s = 0; s < num_steps; ++s) {
    std::vector<float*> p;
    std::vector<const float*> g;
    for (size_t t = 0; t < kSizes.size(); ++t) {
      for (auto& x : grads[t]) x = static_cast<float>(rng.normal());
      p.push_back(run.params[t].data());
      g.push_back(grads[t].data());
    }
    optimizer.step(p, g, 1e-3f);
  }
  run.num_evictions = optimizer.store().num_evictions();
  return run;
}

void expect_bit_identical(const TrainedParams& a, const TrainedParams& b) {
  for (size_t t = 0; t < kSizes.size(); ++t) {
    ASSERT_EQ(std::memcmp(a.params[t].data(), b.params[t].data(), kSizes[t] * sizeof(float)), 0) << "tensor " << t;
  }
}

TEST(PagedAdamWTest, ResultsAreBitIdenticalWhateverTheBudget32bit) {
  const TrainedParams unlimited = train(OptimizerKind::kAdamW32bit, size_t(1) << 40, 5);
  const TrainedParams paged = train(OptimizerKind::kAdamW32bit, 2 * 4096, 5);
  EXPECT_EQ(unlimited.num_evictions, 0u);
  EXPECT_GT(paged.num_evictions, 0u);
  expect_bit_identical(unlimited, paged);
}

TEST(PagedAdamWTest, ResultsAreBitIdenticalWhateverTheBudget8bit) {
  const TrainedParams unlimited = train(OptimizerKind::kAdamW8bit, size_t(1) << 40, 5);
  const TrainedParams paged = train(OptimizerKind::kAdamW8bit, 4096, 5);
  EXPECT_EQ(unlimited.num_evictions, 0u);
  EXPECT_GT(paged.num_evictions, 0u);
  expect_bit_identical(unlimited, paged);
}

TEST(PagedAdamWTest, EightBitStateIsSmallerForLargeTensorsOnly) {
  PagedAdamW full(OptimizerKind::kAdamW32bit, {8192}, AdamWOptions{}, 1 << 30, ::testing::TempDir());
  PagedAdamW small(OptimizerKind::kAdamW8bit, {8192}, AdamWOptions{}, 1 << 30, ::testing::TempDir());
  PagedAdamW tiny(OptimizerKind::kAdamW8bit, {1024}, AdamWOptions{}, 1 << 30, ::testing::TempDir());
  EXPECT_EQ(full.state_bytes(), 8192u * 8);
  EXPECT_EQ(small.state_bytes(), 32u * 520);  // 32 blocks of 256 codes ×2 + two absmax
  EXPECT_EQ(tiny.state_bytes(), 1024u * 8);   // under min_8bit_size: fp32 state
}

TEST(PagedAdamWTest, SavedStateResumesExactly) {
  const std::vector<int64_t> sizes = {5000};
  auto make = [&] {
    return PagedAdamW(OptimizerKind::kAdamW8bit, sizes, AdamWOptions{}, 8192, ::testing::TempDir(), 4096);
  };
  PagedAdamW a = make();
  std::vector<float> pa(5000, 1.0f), g(5000);
  Rng rng(3);
  auto next_grad = [&] {
    for (auto& x : g) x = static_cast<float>(rng.normal());
  };
  for (int s = 0; s < 3; ++s) {
    next_grad();
    a.step({pa.data()}, {g.data()}, 1e-2f);
  }
  std::vector<uint8_t> saved;
  a.save_state([&](const uint8_t* data, size_t size) { saved.insert(saved.end(), data, data + size); });
  EXPECT_EQ(saved.size(), a.state_bytes());
  PagedAdamW b = make();
  b.load_state(a.num_steps(), saved.data(), saved.size());
  std::vector<float> pb = pa;
  for (int s = 0; s < 3; ++s) {
    next_grad();
    a.step({pa.data()}, {g.data()}, 1e-2f);
    b.step({pb.data()}, {g.data()}, 1e-2f);
  }
  EXPECT_EQ(std::memcmp(pa.data(), pb.data(), pa.size() * 4), 0);
  EXPECT_THROW(b.load_state(1, saved.data(), saved.size() - 1), Error);
}

TEST(PagedAdamWTest, ParsesOptimizerNames) {
  EXPECT_EQ(parse_optimizer("paged_adamw_8bit").kind, OptimizerKind::kAdamW8bit);
  EXPECT_TRUE(parse_optimizer("paged_adamw_32bit").is_paged);
  EXPECT_FALSE(parse_optimizer("adamw").is_paged);
  EXPECT_THROW(parse_optimizer("sgd"), Error);
}

}  // namespace
}  // namespace pagedllm
