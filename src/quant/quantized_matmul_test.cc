// Every product path of every quantized format against dequantize-then-fp32 (computed in double):
// fused decode (portable and AVX2), the tile GEMM path, the dispatching matmul, and dx = dy · W.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "kernels/matmul_group.h"
#include "quant/blockwise_4bit.h"
#include "quant/int8_weight.h"
#include "quant/q8_0_weight.h"
#include "quant/generic/quant_kernels.h"
#include "quant/quant_kernels.h"
#include "quant/x86_avx2/quant_kernels.h"
#include "quant/x86_avx512/quant_kernels.h"
#include "quant/quantize.h"
#include "quant/quantized_weight.h"
#include "quant/forward_bounds_test_util.h"
#include "quant/x86_avx512/q8_activations.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

using testing::dequantized;
using testing::expect_forward_matches;
using testing::expect_forward_matches_q8;
using testing::random_vector;

struct Case {
  const char* name;
  QuantConfig config;
};

std::vector<Case> all_cases() {
  return {
      {"NF4", {WeightFormat::kNF4, 64, false, 256}},
      {"NF4+DQ", {WeightFormat::kNF4, 64, true, 256}},
      {"NF4 bs32", {WeightFormat::kNF4, 32, true, 256}},
      {"NF4 bs6", {WeightFormat::kNF4, 6, false, 256}},
      {"FP4", {WeightFormat::kFP4, 64, true, 256}},
      {"INT4", {WeightFormat::kInt4, 128, false, 256}},
      {"NF4+DQ bs256", {WeightFormat::kNF4, 256, true, 256}},
      {"INT8", {WeightFormat::kInt8}},
      {"Q8_0", {WeightFormat::kQ8_0}},
  };
}

// One product to check: a quantized matrix, its dequantized values and an input of n_rows rows.
struct ProductCase {
  const Case& c;
  const QuantizedWeight& q;
  const std::vector<float>& wdq;
  const std::vector<float>& x;
  int64_t n_rows, n_out, n_in;
  std::string what;

  // An output of NaN, so that a path that leaves rows or columns unwritten fails instead of inheriting the values
  // an earlier path wrote.
  std::vector<float> fresh_output() const {
    return std::vector<float>(static_cast<size_t>(n_rows * n_out), std::numeric_limits<float>::quiet_NaN());
  }
  // The AVX2 decode of 4-bit formats takes 8-bit activations where the shapes allow it.
  bool has_q8_activations() const {
    const auto* four_bit = dynamic_cast<const Blockwise4BitWeight*>(&q);
    return has_avx2_fma_f16c() && n_in % 32 == 0 &&
           (four_bit == nullptr || q8_activations_apply(n_in, c.config.block_size));
  }
  void expect_fp32(const std::vector<float>& y, const std::string& path) const {
    expect_forward_matches(wdq, x, y, n_rows, n_out, n_in, what + path);
  }
  // matmul past max_decode_rows() takes the int8 GEMM (quant/int8_gemm.h) where takes_int8_gemm(), and the
  // dequantized tiles otherwise.
  void expect_many_rows(const std::vector<float>& y, const std::string& path) const {
    if (!q.takes_int8_gemm()) return expect_fp32(y, path);
    expect_q8(y, path + " int8 gemm");
  }
  void expect_q8(const std::vector<float>& y, const std::string& path) const {
    const bool four_bit = dynamic_cast<const Blockwise4BitWeight*>(&q) != nullptr;
    expect_forward_matches_q8(wdq, x, y, n_rows, n_out, n_in, four_bit ? c.config.block_size : 0, what + path);
  }
  // INT8 and Q8_0 weights are exact int8 levels: only the activations' rounding applies.
  void expect_avx2_decode(const std::vector<float>& y, const std::string& path) const {
    if (!has_q8_activations()) return expect_fp32(y, path);
    const bool four_bit = dynamic_cast<const Blockwise4BitWeight*>(&q) != nullptr;
    expect_forward_matches_q8(wdq, x, y, n_rows, n_out, n_in, four_bit ? c.config.block_size : 0, what + path);
  }
};

// Calls check(ProductCase) for every format, on 600 rows (decode tasks of more than one run of 64 rows,
// blockwise_4bit.cc, rows inside blocks of 256), 1100 × 640 (GEMM tiles of 550 rows over two column ranges of W,
// 448 + 192: kTileElements) and 1600 inputs, among other shapes, and row counts around the decode/GEMM limits.
// The fp32 paths (the bf16 GEMM has its own test below).
template <class Check>
void for_each_product(Check check) {
  ScopedMatmulCompute compute(ComputeDType::kF32);
  Rng rng(11);
  const int64_t shapes[][2] = {{37, 192}, {5, 64}, {130, 96}, {20, 172}, {600, 64}, {24, 1600}, {1100, 640}};
  for (const auto& c : all_cases()) {
    for (const auto& shape : shapes) {
      const int64_t n_out = shape[0], n_in = shape[1];
      if (c.config.format == WeightFormat::kQ8_0 && n_in % 32 != 0) continue;
      const auto w = random_vector(rng, n_out * n_in, 0.05);
      auto matrix = quantize_weight(w.data(), n_out, n_in, c.config);
      const auto& q = dynamic_cast<const QuantizedWeight&>(*matrix);
      const auto wdq = dequantized(*matrix);
      for (int64_t n_rows : {1, 2, 3, 4, 5, 8, 9, 33, 65}) {
        const auto x = random_vector(rng, n_rows * n_in, 1.0);
        check(ProductCase{c, q, wdq, x, n_rows, n_out, n_in,
                          fmt::format("{} ({}, {}) rows={}", c.name, n_out, n_in, n_rows)});
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

// The paths every CPU runs: the dispatching matmul and matmul_exact, the tile GEMM, the portable decode.
TEST(QuantizedMatmul, EveryPathMatchesDequantizedReference) {
  for_each_product([](const ProductCase& p) {
    auto y = p.fresh_output();
    p.q.matmul(p.x.data(), y.data(), p.n_rows);
    if (p.n_rows <= p.q.max_decode_rows()) {
      p.expect_avx2_decode(y, " matmul");
    } else {
      p.expect_many_rows(y, " matmul");
    }
    y = p.fresh_output();
    p.q.matmul_exact(p.x.data(), y.data(), p.n_rows);
    p.expect_fp32(y, " matmul_exact");
    y = p.fresh_output();
    p.q.matmul_gemm(p.x.data(), y.data(), p.n_rows, /*bf16=*/false);
    p.expect_fp32(y, " gemm");
    y = p.fresh_output();
    p.q.matmul_decode(p.x.data(), y.data(), p.n_rows, /*allow_avx2=*/false, /*allow_q8_activations=*/true);
    p.expect_fp32(y, " decode generic");
  });
}

TEST(QuantizedMatmul, Avx2DecodeMatchesDequantizedReference) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 decode path is not tested";
  for_each_product([](const ProductCase& p) {
    auto y = p.fresh_output();
    p.q.matmul_decode(p.x.data(), y.data(), p.n_rows, /*allow_avx2=*/true, /*allow_q8_activations=*/true);
    p.expect_avx2_decode(y, " decode avx2");
    y = p.fresh_output();
    p.q.matmul_decode(p.x.data(), y.data(), p.n_rows, /*allow_avx2=*/true, /*allow_q8_activations=*/false);
    p.expect_fp32(y, " decode avx2 fp32 activations");
  });
}

// q/k/v and gate/up run as one matmul_group: the same outputs, bit for bit, as each matrix's own matmul, for every
// format, at decode sizes (one job over the rows of all matrices) and GEMM sizes (the fallback).
TEST(QuantizedMatmul, GroupedProductsMatchSeparateOnes) {
  Rng rng(14);
  for (const auto& c : all_cases()) {
    std::vector<std::unique_ptr<WeightMatrix>> weights;
    for (int64_t n_out : {600, 40, 24}) {
      const auto w = random_vector(rng, n_out * 256, 0.05);
      weights.push_back(quantize_weight(w.data(), n_out, 256, c.config));
    }
    for (int64_t n_rows : {1, 3, 8, 9}) {
      const auto x = random_vector(rng, n_rows * 256, 1.0);
      std::vector<std::vector<float>> grouped, separate;
      std::vector<GroupedProduct> products;
      for (const auto& w : weights) {
        grouped.emplace_back(static_cast<size_t>(n_rows * w->n_out()), -1.0f);
        separate.emplace_back(static_cast<size_t>(n_rows * w->n_out()), -2.0f);
        w->matmul(x.data(), separate.back().data(), n_rows);
      }
      for (size_t i = 0; i < weights.size(); ++i) products.push_back({weights[i].get(), grouped[i].data()});
      matmul_group(products, x.data(), n_rows);
      for (size_t i = 0; i < weights.size(); ++i) {
        ASSERT_EQ(grouped[i], separate[i]) << c.name << " matrix " << i << " rows " << n_rows;
      }
    }
  }
}

// Under kBF16 (where the CPU runs it) the GEMM path, matmul past the decode limit and matmul_exact past 8 rows
// multiply dequantized tiles in bf16, within the bf16 bound; under kF32 (or without AVX512-BF16) within the fp32 one.
// Serving and training each follow their own setting. matmul past the decode limit takes the int8 GEMM instead
// where the CPU has VNNI and the shape takes 8-bit activations (within their bound).
TEST(QuantizedMatmul, Bf16GemmPathMatchesDequantizedReference) {
  Rng rng(15);
  for (ComputeDType dtype : {ComputeDType::kBF16, ComputeDType::kF32}) {
    ScopedMatmulCompute compute(dtype);
    const bool bf16 = runs_bf16(dtype);
    for (const auto& c : all_cases()) {
      for (auto [n_out, n_in] : {std::pair<int64_t, int64_t>{130, 96}, {24, 1600}}) {
        const auto w = random_vector(rng, n_out * n_in, 0.05);
        auto matrix = quantize_weight(w.data(), n_out, n_in, c.config);
        const auto& q = dynamic_cast<const QuantizedWeight&>(*matrix);
        const auto wdq = dequantized(*matrix);
        for (int64_t n_rows : {9, 33, 65, 100}) {
          const auto x = random_vector(rng, n_rows * n_in, 1.0);
          // Every path writes into NaN, so one that leaves outputs unwritten cannot inherit another's values.
          std::vector<float> y(static_cast<size_t>(n_rows * n_out), std::numeric_limits<float>::quiet_NaN());
          const std::string what = fmt::format("{} ({}, {}) rows={} bf16={}", c.name, n_out, n_in, n_rows, bf16);
          q.matmul_gemm(x.data(), y.data(), n_rows, bf16);
          expect_forward_matches(wdq, x, y, n_rows, n_out, n_in, what + " gemm", bf16);
          std::fill(y.begin(), y.end(), std::numeric_limits<float>::quiet_NaN());
          q.matmul_exact(x.data(), y.data(), n_rows);
          expect_forward_matches(wdq, x, y, n_rows, n_out, n_in, what + " matmul_exact", bf16);
          if (n_rows > q.max_decode_rows()) {
            std::fill(y.begin(), y.end(), std::numeric_limits<float>::quiet_NaN());
            matrix->matmul(x.data(), y.data(), n_rows);
            if (q.takes_int8_gemm()) {  // the int8 GEMM, tested in int8_gemm_test.cc
              const int64_t block_size = is_4bit_format(c.config.format) ? c.config.block_size : 0;
              expect_forward_matches_q8(wdq, x, y, n_rows, n_out, n_in, block_size, what + " matmul int8");
            } else {
              expect_forward_matches(wdq, x, y, n_rows, n_out, n_in, what + " matmul", bf16);
            }
          }
        }
      }
    }
  }
}

TEST(QuantizedMatmul, BackwardInputMatchesDequantizedReference) {
  Rng rng(12);
  const int64_t n_out = 70, n_in = 320;
  for (ComputeDType dtype : {ComputeDType::kF32, ComputeDType::kBF16}) {
    ScopedMatmulCompute compute(dtype);
    const bool bf16 = runs_bf16(dtype);
    for (const auto& c : all_cases()) {
      const auto w = random_vector(rng, n_out * n_in, 0.05);
      auto matrix = quantize_weight(w.data(), n_out, n_in, c.config);
      const auto wdq = dequantized(*matrix);
      for (int64_t n_rows : {1, 7, 20}) {
        const auto dy = random_vector(rng, n_rows * n_out, 1.0);
        std::vector<float> dx(static_cast<size_t>(n_rows * n_in), -1.0f);
        matrix->matmul_backward_input(dy.data(), dx.data(), n_rows);
        for (int64_t r = 0; r < n_rows; ++r) {
          for (int64_t i = 0; i < n_in; ++i) {
            double exact = 0, magnitude = 0;
            for (int64_t j = 0; j < n_out; ++j) {
              exact += static_cast<double>(dy[r * n_out + j]) * wdq[j * n_in + i];
              magnitude += std::fabs(static_cast<double>(dy[r * n_out + j]) * wdq[j * n_in + i]);
            }
            // Same bound as the forward product, over a length-n_out sum.
            ASSERT_NEAR(dx[r * n_in + i], exact,
                        (n_out * 0x1p-24 + (bf16 ? 0x1p-7 + 0x1p-16 : 0.0)) * magnitude + 1e-30)
                << c.name << " rows=" << n_rows << " r=" << r << " i=" << i << " bf16=" << bf16;
          }
        }
      }
    }
  }
}

// Groups of 8 values are stored evens first; a last group of 4 values keeps the rule.
TEST(QuantKernels, FourBitQuadsRegroupEvensThenOdds) {
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i);
  std::vector<float> quads(12);
  make_4bit_quads(x.data(), 12, 1, quads.data());
  EXPECT_EQ(quads, (std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 9, 11}));
}

// The AVX2 4-bit kernel on its own, on rows that start inside a block (first_offset > 0) and end in a partial one.
TEST(QuantKernels, Avx2FourBitRowMatchesGeneric) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU";
  Rng rng(13);
  const int64_t n_in = 172, block_size = 64;
  std::vector<uint8_t> codes(n_in / 2);
  for (auto& c : codes) c = static_cast<uint8_t>(rng.next_u64() & 0xFF);
  const auto scales = random_vector(rng, 5, 1.0);
  const auto lut = random_vector(rng, 16, 1.0);
  for (int64_t first_offset : {0, 2, 20, 62}) {
    for (int64_t n_rows = 1; n_rows <= 6; ++n_rows) {
      const auto x = random_vector(rng, n_rows * n_in, 1.0);
      std::vector<float> quads(x.size());
      make_4bit_quads(x.data(), n_in, n_rows, quads.data());
      std::vector<float> generic(n_rows), avx2(n_rows);
      generic::dot_4bit_row(codes.data(), scales.data(), block_size, first_offset, lut.data(), quads.data(), n_in,
                           n_rows, generic.data(), 1);
      avx2::dot_4bit_row(codes.data(), scales.data(), block_size, first_offset, lut.data(), quads.data(), n_in, n_rows,
                        avx2.data(), 1);
      for (int64_t r = 0; r < n_rows; ++r) {
        // Both are fp32 sums of the same 172 products in different orders; their magnitude is O(10) here.
        EXPECT_NEAR(avx2[r], generic[r], 1e-4f * (1 + std::fabs(generic[r]))) << first_offset << " " << r;
      }
    }
  }
}

// Groups of 32 are stored evens first, each with its own step; the largest magnitude maps to ±127.
TEST(QuantKernels, Q8ActivationsGroupEvensThenOdds) {
  std::vector<float> x(64);
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i) - 15.0f;  // max |x| = 16
  for (int i = 32; i < 64; ++i) x[i] = 0.0f;                           // an all-zero group
  std::vector<int8_t> q(64);
  std::vector<float> d(2);
  make_q8_activations(x.data(), 64, 1, Q8Order::kEvensThenOdds, q.data(), d.data());
  EXPECT_FLOAT_EQ(d[0], 16.0f / 127.0f);
  EXPECT_EQ(d[1], 0.0f);
  for (int i = 0; i < 32; ++i) {
    const int slot = i % 2 == 0 ? i / 2 : 16 + i / 2;
    EXPECT_EQ(q[slot], static_cast<int8_t>(std::nearbyint(x[i] * 127.0f / 16.0f))) << i;
    EXPECT_EQ(q[32 + i], 0);
  }
  EXPECT_EQ(q[16 + 15], 127);  // x[31] = 16
}

// The AVX-512 quantizer (taken by make_q8_activations where the CPU has it) writes the portable loop's bytes: random
// rows of several magnitudes, an all-zero group, and exact ties (max 127, so x · 127 / 127 = x) that must round to
// even, in both orders.
TEST(QuantKernels, Avx512Q8ActivationsMatchGeneric) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  Rng rng(21);
  const int64_t n_in = 256, n_rows = 3;
  std::vector<float> x = random_vector(rng, n_rows * n_in, 3.0);
  for (int i = 0; i < 32; ++i) x[32 + i] = 0.0f;
  for (int i = 0; i < 32; ++i) x[64 + i] = i == 0 ? 127.0f : static_cast<float>(i) - 16.5f;  // ±0.5 … ±15.5
  for (int i = 0; i < 32; ++i) x[96 + i] *= 1e-30f;
  for (Q8Order order : {Q8Order::kNatural, Q8Order::kEvensThenOdds}) {
    std::vector<int8_t> fast(x.size()), portable(x.size());
    std::vector<float> fast_d(x.size() / 32), portable_d(x.size() / 32);
    avx512::make_q8_activations(x.data(), n_in, n_rows, order, fast.data(), fast_d.data());
    generic::make_q8_activations(x.data(), n_in, n_rows, order, portable.data(), portable_d.data());
    EXPECT_EQ(fast, portable);
    EXPECT_EQ(fast_d, portable_d);
  }
  std::vector<int8_t> q(32);
  float d = 0.0f;
  avx512::make_q8_activations(x.data() + 64, 32, 1, Q8Order::kNatural, q.data(), &d);
  EXPECT_EQ(q[1], -16);  // -15.5 rounds to even
  EXPECT_EQ(q[2], -14);  // -14.5
  EXPECT_EQ(q[16], 0);   // -0.5
  EXPECT_EQ(q[17], 0);   // 0.5
  EXPECT_EQ(q[18], 2);   // 1.5
}

TEST(QuantKernels, CodeValuesInt8RoundToTheGrid) {
  const auto nf4 = code_values_int8(code_values_4bit(WeightFormat::kNF4).data());
  EXPECT_EQ(nf4[0], -127);
  EXPECT_EQ(nf4[7], 0);
  EXPECT_EQ(nf4[8], 10);  // 127 · 0.0796 = 10.1
  EXPECT_EQ(nf4[15], 127);
}

// Rows of NF4 codes against 8-bit activations, starting at the beginning of a block or inside one, with the portable
// kernel's result: the input of every faster 4-bit/8-bit kernel.
struct FourBitQ8Row {
  const std::vector<uint8_t>& codes;
  const std::vector<float>& scales;
  const std::array<int8_t, 16>& lut_i8;
  const std::vector<float>& x;
  const std::vector<int8_t>& xq;
  const std::vector<float>& xd;
  int64_t n_in, n_rows, groups_per_block, first_group;
  const std::vector<float>& generic;

  // The fast kernels compute the same exact integer group sums and differ only in the order of the fp32 sums.
  void expect_matches_generic(const std::vector<float>& got, const char* what) const {
    for (int64_t r = 0; r < n_rows; ++r) {
      EXPECT_NEAR(got[r], generic[r], 1e-4f * (1 + std::fabs(generic[r])))
          << what << " " << n_in << " " << groups_per_block << " " << first_group << " " << r;
    }
  }
};

template <class Check>
void for_each_4bit_q8_row(Check check) {
  Rng rng(14);
  const auto lut_i8 = code_values_int8(code_values_4bit(WeightFormat::kNF4).data());
  for (int64_t n_in : {32, 96, 320, 448, 2048}) {
    std::vector<uint8_t> codes(n_in / 2);
    for (auto& c : codes) c = static_cast<uint8_t>(rng.next_u64() & 0xFF);
    const auto scales = random_vector(rng, n_in / 32 + 1, 1.0);
    // Blocks of 32 to 256 values; the VNNI kernel's paired path takes the even block/offset cases.
    for (int64_t groups_per_block : {1, 2, 4, 8}) {
      for (int64_t first_group = 0; first_group < groups_per_block; ++first_group) {
        for (int64_t n_rows = 1; n_rows <= 6; ++n_rows) {
          const auto x = random_vector(rng, n_rows * n_in, 1.0);
          std::vector<int8_t> xq(x.size());
          std::vector<float> xd(x.size() / 32);
          make_q8_activations(x.data(), n_in, n_rows, Q8Order::kEvensThenOdds, xq.data(), xd.data());
          std::vector<float> generic(n_rows);
          generic::dot_4bit_q8_row(codes.data(), scales.data(), first_group, groups_per_block, lut_i8.data(), xq.data(),
                                  xd.data(), n_in, n_rows, generic.data(), 1);
          check(FourBitQ8Row{codes, scales, lut_i8, x, xq, xd, n_in, n_rows, groups_per_block, first_group, generic});
        }
      }
    }
  }
}

TEST(QuantKernels, Avx2FourBitQ8RowMatchesGeneric) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 kernel is not tested";
  for_each_4bit_q8_row([](const FourBitQ8Row& row) {
    std::vector<float> avx2(row.n_rows, std::numeric_limits<float>::quiet_NaN());
    avx2::dot_4bit_q8_row(row.codes.data(), row.scales.data(), row.first_group, row.groups_per_block,
                         row.lut_i8.data(), row.xq.data(), row.xd.data(), row.n_in, row.n_rows, avx2.data(), 1);
    row.expect_matches_generic(avx2, "avx2");
  });
}

TEST(QuantKernels, VnniFourBitQ8RowMatchesGeneric) {
  if (!has_avx512_vnni()) {
    GTEST_SKIP() << "no AVX-512 VNNI on this CPU (or PAGEDLLM_NO_AVX512=1): the vnni kernels are not tested";
  }
  for_each_4bit_q8_row([](const FourBitQ8Row& row) {
    std::vector<int32_t> lane_sums(row.xq.size() / 4);
    make_q8_lane_sums(row.xq.data(), static_cast<int64_t>(row.xq.size()), lane_sums.data());
    std::vector<float> vnni(row.n_rows, std::numeric_limits<float>::quiet_NaN());
    avx512::dot_4bit_q8_row(row.codes.data(), row.scales.data(), row.first_group, row.groups_per_block,
                         row.lut_i8.data(), row.xq.data(), row.xd.data(), lane_sums.data(), row.n_in, row.n_rows,
                         vnni.data(), 1);
    row.expect_matches_generic(vnni, "vnni");
    if (vnni_quads_apply(row.n_in, 32 * row.groups_per_block) && row.first_group % 2 == 0) {
      const Q8QuadActivations quads(row.x.data(), row.n_in, row.n_rows);
      const int block_shift = row.groups_per_block == 2 ? 1 : row.groups_per_block == 4 ? 2 : 3;
      std::vector<float> vnni_quads(row.n_rows, std::numeric_limits<float>::quiet_NaN());
      avx512::dot_4bit_q8_quads(row.codes.data(), row.scales.data(), row.first_group, block_shift, row.lut_i8.data(),
                             quads.levels(), quads.starts(), quads.steps(), row.n_in, row.n_rows, 1,
                             vnni_quads.data(), 1);
      row.expect_matches_generic(vnni_quads, "vnni quads");
    }
  });
}

// The vectorized 4-bit dequantization (GEMM tiles) against the portable loop: the same product per value, so equal
// bit for bit, including the scalar tail (lengths not a multiple of 16) and all 16 codes in both nibbles.
TEST(QuantKernels, Avx2Dequantize4BitEqualsGeneric) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU";
  Rng rng(21);
  const auto& lut = code_values_4bit(WeightFormat::kNF4);
  for (int64_t n : {2, 14, 16, 18, 64, 130, 2048}) {
    std::vector<uint8_t> codes(n / 2);
    for (auto& c : codes) c = static_cast<uint8_t>(rng.next_u64() & 0xFF);
    const float scale = 0.37f;
    std::vector<float> generic(n), avx2(n);
    generic::dequantize_4bit(codes.data(), n, lut.data(), scale, generic.data());
    avx2::dequantize_4bit(codes.data(), n, lut.data(), scale, avx2.data());
    EXPECT_EQ(avx2, generic) << n;
  }
}

// The lane sums that start each VNNI lane: -128 times the sum of 4 consecutive levels, extremes included.
TEST(QuantKernels, Q8LaneSumsAreMinus128TimesFourLevels) {
  const std::vector<int8_t> levels = {127, 127, 127, 127, -127, -127, -127, -127, 1, -2, 3, -4};
  std::vector<int32_t> sums(3);
  make_q8_lane_sums(levels.data(), 12, sums.data());
  EXPECT_EQ(sums, (std::vector<int32_t>{-65024, 65024, 256}));
}

// INT8 and Q8_0 rows against 8-bit activations, with the portable kernels' results.
struct Int8Q8Row {
  const Int8RowWeight& int8;
  const Q8_0Weight& q8_0;
  const Q8Activations& q8x;
  int64_t n_in, n_rows;
  const std::vector<float>& int8_generic;
  const std::vector<float>& q8_0_generic;

  // The fast kernels and their portable twins sum the same exact integer group sums in a different fp32 order.
  static void expect_matches(const std::vector<float>& got, const std::vector<float>& generic, const char* what,
                             int64_t n_in) {
    for (size_t r = 0; r < generic.size(); ++r) {
      EXPECT_NEAR(got[r], generic[r], 1e-5f * (1 + std::fabs(generic[r]))) << what << " " << n_in << " " << r;
    }
  }
};

template <class Check>
void for_each_int8_q8_row(Check check) {
  Rng rng(15);
  for (int64_t n_in : {32, 96, 2048}) {
    const auto w = random_vector(rng, n_in, 0.05);
    const auto int8 = quantize_weight(w.data(), 1, n_in, {WeightFormat::kInt8});
    const auto q8_0 = quantize_weight(w.data(), 1, n_in, {WeightFormat::kQ8_0});
    const auto& int8_w = dynamic_cast<const Int8RowWeight&>(*int8);
    const auto& q8_0_w = dynamic_cast<const Q8_0Weight&>(*q8_0);
    for (int64_t n_rows = 1; n_rows <= 6; ++n_rows) {
      const auto x = random_vector(rng, n_rows * n_in, 1.0);
      const Q8Activations q8x(x.data(), n_in, n_rows, Q8Order::kNatural);
      std::vector<float> int8_generic(n_rows), q8_0_generic(n_rows);
      generic::dot_int8_q8_row(int8_w.q().data(), int8_w.scales()[0], q8x.levels(), q8x.steps(), n_in, n_rows,
                              int8_generic.data(), 1);
      generic::dot_q8_0_q8_row(q8_0_w.blocks().data(), q8x.levels(), q8x.steps(), n_in, n_rows, q8_0_generic.data(),
                              1);
      check(Int8Q8Row{int8_w, q8_0_w, q8x, n_in, n_rows, int8_generic, q8_0_generic});
    }
  }
}

TEST(QuantKernels, Avx2Int8AndQ8_0Q8RowsMatchGeneric) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 kernels are not tested";
  for_each_int8_q8_row([](const Int8Q8Row& row) {
    std::vector<float> avx2(row.n_rows, std::numeric_limits<float>::quiet_NaN());
    avx2::dot_int8_q8_row(row.int8.q().data(), row.int8.scales()[0], row.q8x.levels(), row.q8x.steps(), row.n_in,
                         row.n_rows, avx2.data(), 1);
    Int8Q8Row::expect_matches(avx2, row.int8_generic, "avx2 int8", row.n_in);
    std::fill(avx2.begin(), avx2.end(), std::numeric_limits<float>::quiet_NaN());
    avx2::dot_q8_0_q8_row(row.q8_0.blocks().data(), row.q8x.levels(), row.q8x.steps(), row.n_in, row.n_rows,
                         avx2.data(), 1);
    Int8Q8Row::expect_matches(avx2, row.q8_0_generic, "avx2 q8_0", row.n_in);
  });
}

TEST(QuantKernels, VnniInt8AndQ8_0Q8RowsMatchGeneric) {
  if (!has_avx512_vnni()) {
    GTEST_SKIP() << "no AVX-512 VNNI on this CPU (or PAGEDLLM_NO_AVX512=1): the vnni kernels are not tested";
  }
  for_each_int8_q8_row([](const Int8Q8Row& row) {
    std::vector<float> vnni(row.n_rows, std::numeric_limits<float>::quiet_NaN());
    avx512::dot_int8_q8_rows(row.int8.q().data(), row.int8.scales().data(), row.q8x.levels(), row.q8x.steps(),
                          row.q8x.lane_sums(), row.n_in, row.n_rows, 1, vnni.data(), 1);
    Int8Q8Row::expect_matches(vnni, row.int8_generic, "vnni int8", row.n_in);
    std::fill(vnni.begin(), vnni.end(), std::numeric_limits<float>::quiet_NaN());
    avx512::dot_q8_0_q8_rows(row.q8_0.blocks().data(), row.q8x.levels(), row.q8x.steps(), row.q8x.lane_sums(),
                          row.n_in, row.n_rows, 1, vnni.data(), 1);
    Int8Q8Row::expect_matches(vnni, row.q8_0_generic, "vnni q8_0", row.n_in);
  });
}

}  // namespace
}  // namespace pagedllm
