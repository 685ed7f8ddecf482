// The AMX GEMMs (amx/amx_gemm.h) on both tile backends:
//   bf16: against two references computed in double, as the AVX512-BF16 kernel is (bf16_gemm_test.cc):
//         exact     |C − exact| ≤ (2⁻⁷ + 2⁻¹⁶) · Σ|a·b| (2⁻⁸ for BF16 B, whose values are already bf16),
//         emulated  the product of the bf16-rounded operands; only fp32 accumulation differs: ≤ 1e-5 · Σ|a·b|.
//   int8: exactly equal to a scalar int32 reference; the per-group tile of the quantized products (gemm_s8u8_groups)
//         bit for bit equal to its contract written out in scalar code (exact sums, the same fused multiply-adds).
// Shapes are ragged in m, n and k around the 16-row/column panels, the 32 × 32 register blocks, the 32- and 64-k
// tiles and the 512-k, 256-column cache blocks. The kHardware tests skip where has_amx_* is false (not on this
// project's development machine: the hardware path has only run where CI has an AMX CPU); there the emulator is
// also compared with the hardware bit for bit on data whose sums are exact, and within the fp32 summation bound
// elsewhere (the hardware's internal rounding order is not documented to match the pseudo-code's).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/amx/amx_gemm.h"
#include "kernels/bf16_product_test_util.h"
#include "kernels/cpu_features.h"
#include "util/error.h"
#include "util/half.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

using amx::TileBackend;

using testing::rounded_to_bf16;

void expect_amx_bf16_matches(TileBackend backend, WeightFormat format, bool trans_b, int64_t m, int64_t n, int64_t k,
                             float beta) {
  testing::expect_bf16_product_matches(
      [&](const float* a, int64_t lda, const void* b, int64_t ldb, float* c, int64_t ldc) {
        amx::gemm_bf16(backend, format, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
        return true;
      },
      format, trans_b, m, n, k, beta);
}

// {m, n, k}: every edge of a panel (16), a register block (32), a bf16 tile (32 k), a depth block (512 k) and a
// column block (256).
const std::vector<std::array<int64_t, 3>> kBf16Shapes = {
    {1, 1, 1}, {15, 17, 16}, {16, 16, 32}, {17, 33, 33}, {33, 15, 100}, {100, 47, 31}, {31, 100, 511}, {20, 300, 70}};

void run_bf16_shapes(TileBackend backend) {
  for (WeightFormat format : {WeightFormat::kBF16, WeightFormat::kF16, WeightFormat::kF32}) {
    for (bool trans_b : {true, false}) {
      for (float beta : {0.0f, 1.0f}) {
        for (auto [m, n, k] : kBf16Shapes) expect_amx_bf16_matches(backend, format, trans_b, m, n, k, beta);
      }
    }
  }
  // Past one 512-k depth block: the later blocks accumulate through C (beta 0.5 applies once).
  expect_amx_bf16_matches(backend, WeightFormat::kF32, true, 18, 40, 1030, 0.5f);
  expect_amx_bf16_matches(backend, WeightFormat::kBF16, false, 18, 40, 1030, 0.0f);
}

TEST(AmxBf16Gemm, EmulatedMatchesReferencesOnRaggedShapes) { run_bf16_shapes(TileBackend::kEmulated); }

TEST(AmxBf16Gemm, HardwareMatchesReferencesOnRaggedShapes) {
  if (!has_amx_bf16()) GTEST_SKIP() << amx_status();
  run_bf16_shapes(TileBackend::kHardware);
}

TEST(AmxBf16Gemm, EmptyDepthScalesC) {
  std::vector<float> c = {1.0f, 2.0f, 3.0f, 4.0f};
  amx::gemm_bf16(TileBackend::kEmulated, WeightFormat::kF32, true, 2, 2, 0, nullptr, 1, nullptr, 1, 0.5f, c.data(),
                 2);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
}

// The emulator is the hardware's reference: the same blocking, tiles and order of tile instructions.
TEST(AmxBf16Gemm, HardwareAgreesWithEmulator) {
  if (!has_amx_bf16()) GTEST_SKIP() << amx_status();
  for (bool exact_data : {true, false}) {
    const int64_t m = 70, n = 90, k = 600;
    std::vector<float> a(m * k), b(n * k);
    Rng rng(5);
    for (int64_t i = 0; i < m * k; ++i) {
      a[i] = exact_data ? static_cast<float>(i % 7 - 3) : static_cast<float>(rng.uniform() * 2.0 - 1.0);
    }
    for (int64_t i = 0; i < n * k; ++i) {
      b[i] = exact_data ? static_cast<float>(i % 5 - 2) : static_cast<float>(rng.uniform() * 2.0 - 1.0);
    }
    std::vector<float> hardware(m * n), emulated(m * n);
    amx::gemm_bf16(TileBackend::kHardware, WeightFormat::kF32, true, m, n, k, a.data(), k, b.data(), k, 0.0f,
                   hardware.data(), n);
    amx::gemm_bf16(TileBackend::kEmulated, WeightFormat::kF32, true, m, n, k, a.data(), k, b.data(), k, 0.0f,
                   emulated.data(), n);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        if (exact_data) {  // small integers: every partial sum exact, so any summation order gives these bits
          ASSERT_EQ(hardware[i * n + j], emulated[i * n + j]) << i << "," << j;
          continue;
        }
        // Two fp32 summations of the same k bf16 products, each within (k + 1) · 2⁻²³ · Σ|a·b| of the exact sum
        // even if one of them truncated instead of rounding to nearest, differ by less than 4 (k + 2) · 2⁻²⁴ · Σ|a·b|.
        double magnitude = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          magnitude += std::fabs(rounded_to_bf16(a[i * k + p]) * rounded_to_bf16(b[j * k + p]));
        }
        ASSERT_NEAR(hardware[i * n + j], emulated[i * n + j], 4.0 * (k + 2) * 0x1.0p-24 * magnitude) << i << "," << j;
      }
    }
  }
}

// ---- int8 ----

struct Int8Case {
  int64_t m, n, k_packed;
};

void expect_amx_int8_exact(TileBackend backend, int64_t m, int64_t n, int64_t k_packed, int64_t k0, int64_t k,
                           bool accumulate) {
  Rng rng(static_cast<uint64_t>(m * 131 + n * 17 + k_packed + k0));
  const int64_t lda = k_packed + 7, ldb = k_packed + 3, ldc = n + 3;
  std::vector<uint8_t> a(static_cast<size_t>(m * lda));
  std::vector<int8_t> b(static_cast<size_t>(n * ldb));
  for (auto& v : a) v = static_cast<uint8_t>(rng.uniform() * 256.0);
  for (auto& v : b) v = static_cast<int8_t>(static_cast<int>(rng.uniform() * 256.0) - 128);
  // The extremes too: 255 · −128 in every product of the first row and column.
  for (int64_t p = 0; p < k_packed; ++p) a[p] = 255;
  for (int64_t p = 0; p < k_packed; ++p) b[p] = -128;
  std::vector<uint8_t> packed_a(static_cast<size_t>(amx::packed_u8_a_bytes(m, k_packed)), 0xEE);
  std::vector<int8_t> packed_b(static_cast<size_t>(amx::packed_s8_b_bytes(n, k_packed)), 0x5A);
  amx::pack_u8_a(m, k_packed, a.data(), lda, packed_a.data());
  amx::pack_s8_b(n, k_packed, b.data(), ldb, packed_b.data());
  std::vector<int32_t> c(static_cast<size_t>(m * ldc));
  for (auto& v : c) v = static_cast<int32_t>(rng.uniform() * 2e6) - 1000000;
  const std::vector<int32_t> c0 = c;
  amx::gemm_u8s8(backend, m, n, k_packed, k0, k, packed_a.data(), packed_b.data(), accumulate, c.data(), ldc);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]) << "wrote outside C at " << i << "," << j;
        continue;
      }
      int64_t expected = accumulate ? c0[i * ldc + j] : 0;
      for (int64_t p = k0; p < k0 + k; ++p) expected += int64_t{a[i * lda + p]} * b[j * ldb + p];
      ASSERT_EQ(c[i * ldc + j], expected) << m << "x" << n << " k " << k0 << "+" << k << " of " << k_packed
                                          << " accumulate=" << accumulate << " at " << i << "," << j;
    }
  }
}

void run_int8_shapes(TileBackend backend) {
  for (int64_t m : {1, 15, 16, 17, 33, 100}) {
    for (int64_t n : {1, 16, 17, 47}) {
      for (bool accumulate : {false, true}) {
        expect_amx_int8_exact(backend, m, n, 64, 0, 64, accumulate);
        expect_amx_int8_exact(backend, m, n, 192, 0, 192, accumulate);
        expect_amx_int8_exact(backend, m, n, 256, 64, 128, accumulate);  // one quantization block of a packed row
      }
    }
  }
  expect_amx_int8_exact(backend, 40, 70, 1024, 0, 1024, false);
  expect_amx_int8_exact(backend, 3, 5, 128, 128, 0, true);  // an empty range leaves C as it was
}

TEST(AmxInt8Gemm, EmulatedEqualsScalarReference) { run_int8_shapes(TileBackend::kEmulated); }

TEST(AmxInt8Gemm, HardwareEqualsScalarReference) {
  if (!has_amx_int8()) GTEST_SKIP() << amx_status();
  run_int8_shapes(TileBackend::kHardware);
}

// The layouts amx_gemm.h documents, byte for byte (the quantized products will pack to them).
TEST(AmxInt8Gemm, PackedLayoutsAreTheDocumentedOnes) {
  const int64_t m = 20, n = 18, k_packed = 128, steps = 2;
  std::vector<uint8_t> a(m * k_packed);
  std::vector<int8_t> b(n * k_packed);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 7 + 1);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<int8_t>(i * 5 + 3);
  std::vector<uint8_t> packed_a(static_cast<size_t>(amx::packed_u8_a_bytes(m, k_packed)));
  std::vector<int8_t> packed_b(static_cast<size_t>(amx::packed_s8_b_bytes(n, k_packed)));
  ASSERT_EQ(packed_a.size(), 2u * steps * 1024);
  ASSERT_EQ(packed_b.size(), 2u * steps * 1024);
  amx::pack_u8_a(m, k_packed, a.data(), k_packed, packed_a.data());
  amx::pack_s8_b(n, k_packed, b.data(), k_packed, packed_b.data());
  for (int64_t s = 0; s < 2; ++s) {
    for (int64_t q = 0; q < steps; ++q) {
      for (int64_t r = 0; r < 16; ++r) {
        for (int64_t e = 0; e < 64; ++e) {
          const int64_t row = 16 * s + r;
          ASSERT_EQ(packed_a[(s * steps + q) * 1024 + 64 * r + e], row < m ? a[row * k_packed + 64 * q + e] : 0);
        }
        for (int64_t j = 0; j < 16; ++j) {
          for (int64_t e = 0; e < 4; ++e) {
            const int64_t col = 16 * s + j;
            ASSERT_EQ(packed_b[(s * steps + q) * 1024 + 64 * r + 4 * j + e],
                      col < n ? b[col * k_packed + 64 * q + 4 * r + e] : 0);
          }
        }
      }
    }
  }
}

// ---- int8 per group (the quantized products' tile) ----

// The contract of gemm_s8u8_groups written out in scalar code: exact integer sums, one fused multiply-add per group
// in order, then the add into C.
void group_tile_reference(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups,
                          const int8_t* levels, int64_t ld_levels, const float* xd, const int32_t* starts,
                          int64_t ld_groups, int num_cols, float* c, int64_t ldc, bool accumulate) {
  for (int r = 0; r < num_rows; ++r) {
    for (int col = 0; col < num_cols; ++col) {
      float acc = 0.0f;
      for (int64_t g = 0; g < num_groups; ++g) {
        int32_t sum = starts[r * ld_groups + g];
        for (int i = 0; i < 32; ++i) {
          sum += panel[((8 * g + i / 4) * 32 + col) * 4 + i % 4] * levels[r * ld_levels + 32 * g + i];
        }
        acc = std::fma(static_cast<float>(sum), steps[32 * g + col] * xd[r * ld_groups + g], acc);
      }
      c[r * ldc + col] = accumulate ? acc + c[r * ldc + col] : acc;
    }
  }
}

void expect_group_tile_matches(TileBackend backend, int num_rows, int num_cols, int64_t num_groups, bool accumulate) {
  Rng rng(static_cast<uint64_t>(num_rows * 1000 + num_cols * 10 + num_groups));
  const int64_t ld_levels = 32 * num_groups + 32, ld_groups = num_groups + 2, ldc = 40;
  std::vector<uint8_t> panel(static_cast<size_t>(num_groups * 8 * 128));
  std::vector<float> steps(static_cast<size_t>(num_groups * 32));
  std::vector<int8_t> levels(static_cast<size_t>(num_rows * ld_levels));
  std::vector<float> xd(static_cast<size_t>(num_rows * ld_groups));
  std::vector<int32_t> starts(xd.size());
  for (auto& v : panel) v = static_cast<uint8_t>(rng.uniform() * 256.0);
  for (auto& v : steps) v = static_cast<float>(rng.uniform() * 0.01);
  for (auto& v : levels) v = static_cast<int8_t>(static_cast<int>(rng.uniform() * 255.0) - 127);
  for (auto& v : xd) v = static_cast<float>(rng.uniform() * 0.1);
  for (auto& v : starts) v = static_cast<int32_t>(rng.uniform() * 1e6) - 500000;
  levels[0] = -128;  // the extremes: −128 · 255
  panel[0] = 255;
  // C one row and 8 columns wider than the tile, to see that nothing outside it is written.
  std::vector<float> c((num_rows + 1) * ldc);
  for (auto& v : c) v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  std::vector<float> expected = c;
  amx::gemm_s8u8_groups(backend, num_rows, panel.data(), steps.data(), num_groups, levels.data(), ld_levels,
                        xd.data(), starts.data(), ld_groups, num_cols, c.data(), ldc, accumulate);
  group_tile_reference(num_rows, panel.data(), steps.data(), num_groups, levels.data(), ld_levels, xd.data(),
                       starts.data(), ld_groups, num_cols, expected.data(), ldc, accumulate);
  for (size_t i = 0; i < c.size(); ++i) {
    ASSERT_EQ(c[i], expected[i]) << num_rows << " rows, " << num_cols << " columns, " << num_groups
                                 << " groups, accumulate=" << accumulate << " at " << i;
  }
}

void run_group_tiles(TileBackend backend) {
  for (int num_rows : {1, 7, 15, 16}) {
    for (int num_cols : {1, 16, 17, 32}) {
      for (int64_t num_groups : {1, 3, 16}) {
        for (bool accumulate : {false, true}) {
          expect_group_tile_matches(backend, num_rows, num_cols, num_groups, accumulate);
        }
      }
    }
  }
}

TEST(AmxInt8GroupTile, EmulatedEqualsScalarReferenceBitForBit) { run_group_tiles(TileBackend::kEmulated); }

TEST(AmxInt8GroupTile, HardwareEqualsScalarReferenceBitForBit) {
  if (!has_amx_int8()) GTEST_SKIP() << amx_status();
  run_group_tiles(TileBackend::kHardware);
}

TEST(AmxInt8Gemm, RejectsDepthsOffTheTileGrid) {
  std::vector<uint8_t> a(1024);
  std::vector<int8_t> b(1024);
  std::vector<int32_t> c(1);
  const auto call = [&](int64_t k_packed, int64_t k0, int64_t k) {
    amx::gemm_u8s8(TileBackend::kEmulated, 1, 1, k_packed, k0, k, a.data(), b.data(), false, c.data(), 1);
  };
  EXPECT_THROW(call(100, 0, 100), Error);
  EXPECT_THROW(call(128, 32, 64), Error);
  EXPECT_THROW(call(128, 0, 96), Error);
  EXPECT_THROW(call(128, 64, 128), Error);
  try {
    call(128, 64, 128);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(std::string(e.what()), "AMX int8 GEMM: k0 + k = 64 + 128 is past the packed depth 128");
  }
  EXPECT_THROW(amx::pack_u8_a(1, 65, a.data(), 65, a.data()), Error);
}

}  // namespace
}  // namespace pagedllm
