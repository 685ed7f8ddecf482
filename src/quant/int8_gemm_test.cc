// The int8 GEMM of the quantized formats (quant/int8_gemm.h) against the fp32 product of the dequantized weights (the
// 8-bit activations' bound), against the decode kernels on the same rows (same integer sums and steps: only the fp32
// summation order differs), and its VNNI kernels against the portable ones, bit for bit.
#include "quant/int8_gemm.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "quant/forward_bounds_test_util.h"
#include "quant/quantize.h"
#include "quant/quantized_weight.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

using testing::dequantized;
using testing::expect_forward_matches_q8;
using testing::random_vector;

struct Case {
  const char* name;
  QuantConfig config;
};

// Every format the GEMM reads, with and without double quantization, blocks of 1, 2, 4 and 8 groups.
std::vector<Case> int8_cases() {
  return {
      {"NF4", {WeightFormat::kNF4, 64, false, 256}},
      {"NF4+DQ", {WeightFormat::kNF4, 64, true, 256}},
      {"NF4+DQ bs32", {WeightFormat::kNF4, 32, true, 256}},
      {"FP4", {WeightFormat::kFP4, 64, false, 256}},
      {"FP4+DQ", {WeightFormat::kFP4, 64, true, 256}},
      {"INT4", {WeightFormat::kInt4, 128, false, 256}},
      {"INT4+DQ bs256", {WeightFormat::kInt4, 256, true, 256}},
      {"INT8", {WeightFormat::kInt8}},
      {"Q8_0", {WeightFormat::kQ8_0}},
  };
}

// (n_out, n_in): 37 weight rows end inside a second panel and 19 groups inside a second K block of 16; 130 rows make
// tasks of unequal width; n_in 96 is a block of 3 groups (rows start inside 4-bit blocks of 2 or more groups).
constexpr int64_t kShapes[][2] = {{37, 608}, {130, 96}};
constexpr int64_t kRowCounts[] = {65, 100, 128, 511, 1000};

struct Product {
  std::string what;
  std::unique_ptr<WeightMatrix> matrix;
  std::vector<float> wdq, x;
  int64_t n_rows, n_out, n_in, block_size;
  const QuantizedWeight& q() const { return dynamic_cast<const QuantizedWeight&>(*matrix); }
  std::vector<float> nan_output() const {
    return std::vector<float>(static_cast<size_t>(n_rows * n_out), std::numeric_limits<float>::quiet_NaN());
  }
};

template <class Check>
void for_each_product(Check check) {
  ScopedMatmulCompute compute(ComputeDType::kF32);
  Rng rng(21);
  for (const auto& c : int8_cases()) {
    for (const auto& shape : kShapes) {
      const int64_t n_out = shape[0], n_in = shape[1];
      const auto w = random_vector(rng, n_out * n_in, 0.05);
      Product p;
      p.matrix = quantize_weight(w.data(), n_out, n_in, c.config);
      p.wdq = dequantized(*p.matrix);
      p.n_out = n_out;
      p.n_in = n_in;
      p.block_size = is_4bit_format(c.config.format) ? c.config.block_size : 0;
      for (int64_t n_rows : kRowCounts) {
        p.x = random_vector(rng, n_rows * n_in, 1.0);
        p.n_rows = n_rows;
        p.what = fmt::format("{} ({}, {}) rows={}", c.name, n_out, n_in, n_rows);
        check(p);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

// The kernels this CPU runs (VNNI, else the portable ones) within the bound of the 8-bit activations and of the 4-bit
// code values rounded to int8 (forward_bounds_test_util.h).
TEST(Int8Gemm, MatchesDequantizedReferenceForEveryFormat) {
  for_each_product([](const Product& p) {
    auto y = p.nan_output();
    p.q().matmul_int8(p.x.data(), y.data(), p.n_rows, /*allow_simd=*/true);
    expect_forward_matches_q8(p.wdq, p.x, y, p.n_rows, p.n_out, p.n_in, p.block_size, p.what);
  });
}

// The VNNI tile and packing compute the portable kernels' integer sums and the same fused multiply-adds in the same
// order: equal bits. (Where has_amx_int8() dispatch picks the AMX tile instead, equally bit for bit:
// amx_int8_gemm_test.cc; the quant_tests_no_amx ctest run keeps VNNI tested there.)
TEST(Int8Gemm, VnniKernelsMatchPortableBitForBit) {
  if (!has_avx512_vnni()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU: only the portable kernels run";
  for_each_product([](const Product& p) {
    auto vnni = p.nan_output(), portable = p.nan_output();
    p.q().matmul_int8(p.x.data(), vnni.data(), p.n_rows, /*allow_simd=*/true);
    p.q().matmul_int8(p.x.data(), portable.data(), p.n_rows,
                      /*allow_simd=*/false);
    for (size_t i = 0; i < vnni.size(); ++i) ASSERT_EQ(vnni[i], portable[i]) << p.what << " at " << i;
  });
}

// Against the decode kernels on the same rows: every (input row, weight row, group) is the same exact integer sum times
// the same steps (d · absmax / 127, d · f16 scale, d · row scale), so the two differ only by fp32 rounding of the G =
// n_in / 32 group terms: summed in different orders (≤ G + 8 roundings along either path, the decode kernels' lane
// reduction included) and the steps multiplied in a different order (≤ 3 roundings per term). With T = Σ_g |term_g| ≤
// Σ_i (|w_i| + a_i / 127) · (|x_i| + d_i): |Δ| ≤ 2 · (G + 11) · 2^-24 · T.
TEST(Int8Gemm, MatchesDecodeKernelsOnTheSameRows) {
  for_each_product([](const Product& p) {
    auto gemm = p.nan_output(), decode = p.nan_output();
    p.q().matmul_int8(p.x.data(), gemm.data(), p.n_rows, /*allow_simd=*/true);
    p.q().matmul_decode(p.x.data(), decode.data(), p.n_rows,
                        /*allow_avx2=*/has_avx2_fma_f16c(),
                        /*allow_q8_activations=*/true);
    const int64_t block_size = p.block_size > 0 ? p.block_size : p.n_out * p.n_in;
    std::vector<double> block_absmax((p.n_out * p.n_in + block_size - 1) / block_size, 0.0);
    if (p.block_size > 0) {
      for (int64_t v = 0; v < p.n_out * p.n_in; ++v) {
        block_absmax[v / block_size] = std::max(block_absmax[v / block_size], std::fabs(double{p.wdq[v]}));
      }
    }
    const int64_t groups = p.n_in / 32;
    for (int64_t r = 0; r < p.n_rows; ++r) {
      std::vector<double> step(groups, 0.0);
      for (int64_t i = 0; i < p.n_in; ++i)
        step[i / 32] = std::max(step[i / 32], std::fabs(double{p.x[r * p.n_in + i]}) / 127);
      for (int64_t j = 0; j < p.n_out; ++j) {
        double total = 0;
        for (int64_t i = 0; i < p.n_in; ++i) {
          const double a = p.block_size > 0 ? block_absmax[(j * p.n_in + i) / block_size] / 127 : 0.0;
          total += (std::fabs(p.wdq[j * p.n_in + i]) + a) * (std::fabs(p.x[r * p.n_in + i]) + step[i / 32]);
        }
        ASSERT_NEAR(gemm[r * p.n_out + j], decode[r * p.n_out + j], 2 * (groups + 11) * 0x1p-24 * total + 1e-30)
            << p.what << " r=" << r << " j=" << j;
      }
    }
  });
}

// matmul past the decode limit takes the int8 GEMM's bits where takes_int8_gemm() (VNNI, and bf16 chosen for
// many-row products), else the tiles' (fp32 chosen, or no VNNI). Only then does the limit drop to 16 rows.
TEST(Int8Gemm, MatmulTakesItPastTheDecodeLimitInPlaceOfBf16Tiles) {
  Rng rng(22);
  const int64_t n_out = 70, n_in = 256;
  for (ComputeDType dtype : {ComputeDType::kBF16, ComputeDType::kF32}) {
    ScopedMatmulCompute compute(dtype);
    for (const auto& c : int8_cases()) {
      const auto w = random_vector(rng, n_out * n_in, 0.05);
      const auto matrix = quantize_weight(w.data(), n_out, n_in, c.config);
      const auto& q = dynamic_cast<const QuantizedWeight&>(*matrix);
      const bool int8 = has_avx512_vnni() && runs_bf16(dtype);
      EXPECT_EQ(q.takes_int8_gemm(), int8) << c.name;
      EXPECT_EQ(q.max_decode_rows(), int8                ? QuantizedWeight::kMaxDecodeRowsBeforeInt8Gemm
                                     : has_avx512_vnni() ? QuantizedWeight::kMaxVnniDecodeRows
                                                         : QuantizedWeight::kMaxDecodeRows)
          << c.name;
      for (int64_t n_rows : {q.max_decode_rows() + 1, int64_t{300}}) {
        const auto x = random_vector(rng, n_rows * n_in, 1.0);
        std::vector<float> y(static_cast<size_t>(n_rows * n_out)), expected(y.size());
        matrix->matmul(x.data(), y.data(), n_rows);
        if (int8) {
          q.matmul_int8(x.data(), expected.data(), n_rows, /*allow_simd=*/true);
        } else {
          q.matmul_gemm(x.data(), expected.data(), n_rows, runs_bf16(dtype));
        }
        EXPECT_EQ(y, expected) << c.name << " rows=" << n_rows << " bf16=" << runs_bf16(dtype);
      }
    }
  }
}

// The same bits with one thread as with the pool's (tasks own whole columns; K blocks add in the same order).
TEST(Int8Gemm, ResultDoesNotDependOnTheThreadCount) {
  Rng rng(23);
  const int64_t n_out = 300, n_in = 1024, n_rows = 70;
  const auto w = random_vector(rng, n_out * n_in, 0.05);
  const auto matrix = quantize_weight(w.data(), n_out, n_in, QuantConfig{WeightFormat::kNF4, 64, true, 256});
  const auto& q = dynamic_cast<const QuantizedWeight&>(*matrix);
  const auto x = random_vector(rng, n_rows * n_in, 1.0);
  std::vector<float> pooled(static_cast<size_t>(n_rows * n_out)), serial(pooled.size());
  q.matmul_int8(x.data(), pooled.data(), n_rows, /*allow_simd=*/true);
  const int threads = num_threads();
  set_num_threads(1);
  q.matmul_int8(x.data(), serial.data(), n_rows, /*allow_simd=*/true);
  set_num_threads(threads);
  EXPECT_EQ(pooled, serial);
}

// Shapes the 8-bit activations do not take are refused by name, and matmul keeps its tile GEMM for them.
TEST(Int8Gemm, RefusesShapesWithoutEightBitActivations) {
  Rng rng(24);
  const auto w = random_vector(rng, 10 * 172, 0.05);
  for (QuantConfig config : {QuantConfig{WeightFormat::kNF4, 64, false, 256}, QuantConfig{WeightFormat::kInt8}}) {
    const auto ragged = quantize_weight(w.data(), 10, 172, config);  // n_in 172: not whole groups of 32
    const auto& q = dynamic_cast<const QuantizedWeight&>(*ragged);
    EXPECT_FALSE(q.int8_gemm_weights().has_value());
    std::vector<float> x(172 * 2, 1.0f), y(20);
    try {
      q.matmul_int8(x.data(), y.data(), 2, /*allow_simd=*/true);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
      EXPECT_NE(std::string(e.what()).find("(10, 172)"), std::string::npos) << e.what();
    }
  }
  const auto odd_blocks = quantize_weight(w.data(), 10, 160, QuantConfig{WeightFormat::kNF4, 48, false, 256});
  EXPECT_FALSE(dynamic_cast<const QuantizedWeight&>(*odd_blocks).int8_gemm_weights().has_value());
}

}  // namespace
}  // namespace pagedllm
