// The AMX-INT8 kernels of the int8 GEMM (int8_gemm_kernels_amx, quant/int8_gemm.h) against the portable kernels, bit
// for bit: the tile sums each group of 32 exactly with tdpbsud and scales it with the portable kernel's fused
// multiply-adds in its order, and packs the same panels, so every output bit must agree (no error bound). The
// emulated tiles run everywhere; the hardware ones only where has_amx_int8() (never on this project's development
// machine, a Zen 4: that path has only run where CI has an AMX CPU).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "kernels/amx/amx_gemm.h"
#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "quant/forward_bounds_test_util.h"
#include "quant/int8_gemm.h"
#include "quant/quantize.h"
#include "quant/quantized_weight.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

using amx::TileBackend;
using testing::random_vector;

struct Layout {
  const char* name;
  QuantConfig config;
};

// Every packing the GEMM has: 4-bit codes with and without double quantization (absmax blocks of 1, 2 and 4 groups),
// INT8 rows and Q8_0 blocks.
std::vector<Layout> layouts() {
  return {
      {"NF4", {WeightFormat::kNF4, 64, false, 256}},  {"NF4+DQ", {WeightFormat::kNF4, 64, true, 256}},
      {"FP4+DQ bs32", {WeightFormat::kFP4, 32, true, 256}}, {"INT4 bs128", {WeightFormat::kInt4, 128, false, 256}},
      {"INT8", {WeightFormat::kInt8}},                {"Q8_0", {WeightFormat::kQ8_0}},
  };
}

// Input rows around the 16-row tile (ragged tails of 1 and 15 rows, several tiles, a partial 256-row sweep past 200).
constexpr int64_t kRowCounts[] = {1, 15, 16, 17, 33, 65, 200};
// (n_out, n_in): 37 and 70 weight rows end inside a panel of 32; 608 is 19 groups, two K blocks of 16 (the second
// accumulates into y), 96 three groups.
constexpr int64_t kShapes[][2] = {{37, 608}, {70, 96}};

std::vector<float> nan_output(int64_t n_rows, int64_t n_out) {
  return std::vector<float>(static_cast<size_t>(n_rows * n_out), std::numeric_limits<float>::quiet_NaN());
}

// Equal bits, so that a −0 for a +0 fails too.
void expect_same_bits(const std::vector<float>& got, const std::vector<float>& expected, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(expected[i]))
        << what << " at " << i << ": " << got[i] << " vs " << expected[i];
  }
}

void expect_amx_matches_portable(const Int8GemmKernels& amx_kernels) {
  ScopedMatmulCompute compute(ComputeDType::kF32);
  Rng rng(31);
  for (const auto& layout : layouts()) {
    for (const auto& shape : kShapes) {
      const int64_t n_out = shape[0], n_in = shape[1];
      const auto w = random_vector(rng, n_out * n_in, 0.05);
      const auto matrix = quantize_weight(w.data(), n_out, n_in, layout.config);
      const auto weights = dynamic_cast<const QuantizedWeight&>(*matrix).int8_gemm_weights();
      ASSERT_TRUE(weights.has_value()) << layout.name;
      for (int64_t n_rows : kRowCounts) {
        const auto x = random_vector(rng, n_rows * n_in, 1.0);
        auto amx = nan_output(n_rows, n_out), portable = nan_output(n_rows, n_out);
        int8_gemm(*weights, amx_kernels, x.data(), amx.data(), n_rows);
        int8_gemm(*weights, int8_gemm_kernels(/*allow_simd=*/false), x.data(), portable.data(), n_rows);
        expect_same_bits(amx, portable, fmt::format("{} ({}, {}) rows={}", layout.name, n_out, n_in, n_rows));
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

TEST(AmxInt8GemmKernels, EmulatedMatchPortableBitForBit) {
  expect_amx_matches_portable(int8_gemm_kernels_amx(TileBackend::kEmulated));
}

TEST(AmxInt8GemmKernels, HardwareMatchPortableBitForBit) {
  if (!has_amx_int8()) GTEST_SKIP() << amx_status();
  expect_amx_matches_portable(int8_gemm_kernels_amx(TileBackend::kHardware));
}

// Dispatch: the hardware tiles exactly where has_amx_int8() (PAGEDLLM_NO_AMX=1 turns it off), never the emulated ones.
TEST(AmxInt8GemmKernels, DispatchTakesTheTilesOnlyWhereTheCpuHasThem) {
  const Int8GemmKernels& hardware = int8_gemm_kernels_amx(TileBackend::kHardware);
  const Int8GemmKernels& emulated = int8_gemm_kernels_amx(TileBackend::kEmulated);
  EXPECT_EQ(hardware.max_tile_rows, 16);
  EXPECT_EQ(emulated.max_tile_rows, 16);
  EXPECT_NE(hardware.tile, emulated.tile);
  const Int8GemmKernels& chosen = int8_gemm_kernels(/*allow_simd=*/true);
  EXPECT_NE(chosen.tile, emulated.tile);
  if (has_amx_int8()) {
    EXPECT_EQ(&chosen, &hardware);
  } else {
    EXPECT_NE(chosen.tile, hardware.tile);
    EXPECT_EQ(chosen.max_tile_rows, kInt8MaxTileRows);
  }
  const Int8GemmKernels& portable = int8_gemm_kernels(/*allow_simd=*/false);
  EXPECT_NE(portable.tile, hardware.tile);
  EXPECT_EQ(portable.max_tile_rows, kInt8MaxTileRows);
}

int64_t thread_count() {
  int64_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++count;
  return count;
}

// Products on the emulated AMX kernels mixed with emulated bf16 tile products (the other configuration: every switch
// reloads it) on pool threads and on a run of foreign threads, each of which configures its own tiles: every result
// keeps the portable bits, and no thread is left behind.
TEST(AmxInt8GemmKernels, ThousandsOfMixedCallsFromPoolAndForeignThreadsLeakNoThreads) {
  ScopedMatmulCompute compute(ComputeDType::kF32);
  Rng rng(32);
  const int64_t n_out = 40, n_in = 64;
  const auto w = random_vector(rng, n_out * n_in, 0.05);
  const auto matrix = quantize_weight(w.data(), n_out, n_in, QuantConfig{WeightFormat::kNF4, 64, true, 256});
  const Int8GemmWeights weights = *dynamic_cast<const QuantizedWeight&>(*matrix).int8_gemm_weights();
  constexpr int kNumShapes = 8;
  std::vector<std::vector<float>> inputs, expected;
  for (int s = 0; s < kNumShapes; ++s) {
    const int64_t n_rows = 1 + 5 * s;
    inputs.push_back(random_vector(rng, n_rows * n_in, 1.0));
    expected.push_back(nan_output(n_rows, n_out));
    int8_gemm(weights, int8_gemm_kernels(/*allow_simd=*/false), inputs.back().data(), expected.back().data(), n_rows);
  }
  std::atomic<int> wrong{0};
  const auto product = [&](int call) {
    const int s = call % kNumShapes;
    const int64_t n_rows = 1 + 5 * s;
    auto y = nan_output(n_rows, n_out);
    int8_gemm(weights, int8_gemm_kernels_amx(TileBackend::kEmulated), inputs[s].data(), y.data(), n_rows);
    for (size_t i = 0; i < y.size(); ++i) {
      if (std::bit_cast<uint32_t>(y[i]) != std::bit_cast<uint32_t>(expected[s][i])) {
        wrong.fetch_add(1);
        return;
      }
    }
  };
  const auto bf16_products = [&](int64_t begin, int64_t end) {
    for (int64_t call = begin; call < end; ++call) {
      const int64_t m = 1 + call % 20, n = 1 + call % 30, k = 1 + call % 40;
      std::vector<float> a(m * k, 0.5f), b(n * k, 0.25f), c(m * n);
      amx::gemm_bf16(TileBackend::kEmulated, WeightFormat::kF32, true, m, n, k, a.data(), k, b.data(), k, 0.0f,
                     c.data(), n);
      if (c[m * n - 1] != 0.125f * static_cast<float>(k)) wrong.fetch_add(1);
    }
  };
  parallel_for(1024, 1, [](int64_t, int64_t) {});  // start the pool first: only threads left behind count
  const int64_t threads_before = thread_count();
  for (int call = 0; call < 1000; ++call) {
    product(call);
    if (call % 10 == 0) parallel_for(64, 1, bf16_products);
  }
  for (int round = 0; round < 25; ++round) {  // one foreign thread at a time (parallel_for's contract)
    std::thread([&, round] {
      for (int call = 0; call < 8; ++call) {
        product(round * 8 + call);
        bf16_products(call, call + 2);
      }
    }).join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(thread_count(), threads_before);
}

}  // namespace
}  // namespace pagedllm
