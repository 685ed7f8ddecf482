#include "kernels/compute_dtype.h"

#include <gtest/gtest.h>

#include "kernels/cpu_features.h"

namespace pagedllm {
namespace {

// Serving starts in bf16 exactly where the CPU runs it; training starts in fp32 until a fine-tune opts in.
TEST(ComputeDType, DefaultsToBf16ServingWhereTheCpuHasItAndF32Training) {
  EXPECT_EQ(matmul_compute(), has_avx512_bf16() ? ComputeDType::kBF16 : ComputeDType::kF32);
  EXPECT_EQ(training_matmul_compute(), ComputeDType::kF32);
}

TEST(ComputeDType, RunsBf16OnlyWhenAskedAndSupported) {
  EXPECT_FALSE(runs_bf16(ComputeDType::kF32));
  EXPECT_EQ(runs_bf16(ComputeDType::kBF16), has_avx512_bf16());
}

TEST(ComputeDType, ScopedSettingRestoresBoth) {
  const ComputeDType serving = matmul_compute(), training = training_matmul_compute();
  {
    ScopedMatmulCompute scoped(ComputeDType::kBF16);
    EXPECT_EQ(matmul_compute(), ComputeDType::kBF16);
    EXPECT_EQ(training_matmul_compute(), ComputeDType::kBF16);
    set_matmul_compute(ComputeDType::kF32);
  }
  EXPECT_EQ(matmul_compute(), serving);
  EXPECT_EQ(training_matmul_compute(), training);
}

}  // namespace
}  // namespace pagedllm
