#include "train/lora_parameters.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pagedllm {
namespace {

TEST(LoraParametersTest, InitializesLikePeft) {
  Rng rng(4);
  const auto modules = init_lora_modules({{2, "self_attn.k_proj", 100, 20}}, 4, rng);
  ASSERT_EQ(modules.size(), 1u);
  const auto& m = modules[0];
  EXPECT_EQ(m.A.size(), 400u);
  EXPECT_EQ(m.B.size(), 80u);
  for (float b : m.B) EXPECT_EQ(b, 0.0f);
  float max_abs = 0;
  for (float a : m.A) max_abs = std::max(max_abs, std::abs(a));
  EXPECT_LE(max_abs, 0.1f);  // bound 1/sqrt(100)
  EXPECT_GT(max_abs, 0.09f);  // 400 uniform draws reach within 10% of the bound (P(miss) = 0.9^400)
}

TEST(LoraParametersTest, FlattensAsAThenBPerModule) {
  Rng rng(4);
  auto modules = init_lora_modules({{0, "a", 3, 2}, {0, "b", 5, 7}}, 2, rng);
  EXPECT_EQ(parameter_sizes(modules), (std::vector<int64_t>{6, 4, 10, 14}));
  const auto tensors = parameter_tensors(modules);
  EXPECT_EQ(tensors[2], modules[1].A.data());
  auto grads = zero_like(modules);
  grads[1].B[3] = 5;
  set_zero(grads);
  EXPECT_EQ(grads[1].B[3], 0.0f);
}

}  // namespace
}  // namespace pagedllm
