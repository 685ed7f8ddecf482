#include "quant/blockwise_4bit.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "quant/codebooks.h"
#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

// One block of 64: eight chosen values, then zeros. absmax = 2, so bnb scales by 0.5:
//   scaled = {1, -1, 0, 0.05, -0.05, 0.45, -0.35, 0.65, 0, ...}
std::vector<float> fixed_block() {
  std::vector<float> w(64, 0.0f);
  const float head[8] = {2.0f, -2.0f, 0.0f, 0.1f, -0.1f, 0.9f, -0.7f, 1.3f};
  std::copy(head, head + 8, w.begin());
  return w;
}

std::vector<uint8_t> expected_bytes(std::vector<uint8_t> head, uint8_t fill) {
  head.resize(32, fill);
  return head;
}

// NF4 codes by bnb's thresholds (count of thresholds below the value): 1 → 15, -1 → 0, 0 → 7,
// 0.05 (> 0.0398) → 8, -0.05 (≤ -0.0455, > -0.1379) → 6, 0.45 (> 0.3893, ≤ 0.5017) → 12,
// -0.35 (≤ -0.3397, > -0.4600) → 3, 0.65 (> 0.6428, ≤ 0.8615) → 14. Packed high nibble first.
TEST(Blockwise4Bit, Nf4BytesMatchBitsandbytesOnFixedVector) {
  const auto w = fixed_block();
  auto q = quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), 1, 64, 64, false, 256);
  EXPECT_EQ(q->packed(), expected_bytes({0xF0, 0x78, 0x6C, 0x3E}, 0x77));
  EXPECT_EQ(q->scales().absmax(), std::vector<float>{2.0f});
  std::vector<float> row(64);
  q->dequantize_row(0, row.data());
  EXPECT_EQ(row[0], 2.0f);
  EXPECT_EQ(row[1], -2.0f);
  EXPECT_EQ(row[3], kNf4Values[8] * 2.0f);
  EXPECT_EQ(row[7], kNf4Values[14] * 2.0f);
  EXPECT_EQ(row[63], 0.0f);
}

// FP4 by bnb's tree on |x| with the sign in bit 3: 1 → 011, -1 → 1011, 0 → 0, 0.05 → 001, -0.05 → 1001,
// 0.45 → 101 (6/12), -0.35 → 1100 (-4/12), 0.65 → 010 (8/12).
TEST(Blockwise4Bit, Fp4BytesMatchBitsandbytesOnFixedVector) {
  const auto w = fixed_block();
  auto q = quantize_blockwise_4bit(WeightFormat::kFP4, w.data(), 1, 64, 64, false, 256);
  EXPECT_EQ(q->packed(), expected_bytes({0x3B, 0x01, 0x95, 0xC2}, 0x00));
}

// INT4: round-half-even(7 · scaled) + 8 = {15, 1, 8, 8 (0.35), 8 (-0.35), 11 (3.15), 6 (-2.45), 13 (4.55)}.
TEST(Blockwise4Bit, Int4BytesOnFixedVector) {
  const auto w = fixed_block();
  auto q = quantize_blockwise_4bit(WeightFormat::kInt4, w.data(), 1, 64, 64, false, 256);
  EXPECT_EQ(q->packed(), expected_bytes({0xF1, 0x88, 0x8B, 0x6D}, 0x88));
}

float max_half_gap(const std::array<float, 16>& values) {
  std::array<float, 16> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  float gap = 0;
  for (int i = 1; i < 16; ++i) gap = std::max(gap, (sorted[i] - sorted[i - 1]) / 2);
  return gap;
}

// Without double quantization every value is within (absmax of its block) × (largest half-gap of the code book)
// of its dequantized value, and its code is the nearest one (to fp32 rounding of the scaled value, 1e-6).
TEST(Blockwise4Bit, RoundTripErrorWithinHalfGapOfEachBlock) {
  Rng rng(7);
  const int64_t n_out = 24, n_in = 172;  // 172 % 64 != 0: blocks span rows, the last block is partial
  std::vector<float> w(n_out * n_in);
  for (float& v : w) v = static_cast<float>(rng.normal());
  for (WeightFormat format : {WeightFormat::kNF4, WeightFormat::kFP4, WeightFormat::kInt4}) {
    auto q = quantize_blockwise_4bit(format, w.data(), n_out, n_in, 64, false, 256);
    const auto& values = code_values_4bit(format);
    const float half_gap = max_half_gap(values);
    std::vector<float> row(n_in);
    for (int64_t j = 0; j < n_out; ++j) {
      q->dequantize_row(j, row.data());
      for (int64_t i = 0; i < n_in; ++i) {
        const int64_t flat = j * n_in + i;
        const float absmax = q->scales().scale(flat / 64);
        ASSERT_LE(std::fabs(w[flat] - row[i]), absmax * half_gap * (1 + 1e-6f)) << flat;
        const float scaled = w[flat] / absmax;
        float best = 1e9f;
        for (float v : values) best = std::min(best, std::fabs(scaled - v));
        ASSERT_LE(std::fabs(scaled - row[i] / absmax), best + 1e-6f) << flat;
      }
    }
  }
}

TEST(Blockwise4Bit, DoubleQuantRoundTripAddsTheAbsmaxError) {
  Rng rng(8);
  const int64_t n_out = 64, n_in = 256;
  std::vector<float> w(n_out * n_in);
  for (float& v : w) v = static_cast<float>(0.02 * rng.normal());
  auto plain = quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), n_out, n_in, 64, false, 256);
  auto dq = quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), n_out, n_in, 64, true, 256);
  EXPECT_EQ(plain->packed(), dq->packed());  // the codes do not depend on how the constants are stored
  std::vector<float> row(n_in);
  for (int64_t j = 0; j < n_out; ++j) {
    dq->dequantize_row(j, row.data());
    for (int64_t i = 0; i < n_in; ++i) {
      const int64_t block = (j * n_in + i) / 64;
      const float absmax = plain->scales().scale(block);
      const float absmax_error = dq->scales().nested_absmax()[block / 256] * 0.00703125f + 1e-6f;
      ASSERT_LE(std::fabs(w[j * n_in + i] - row[i]), absmax * max_half_gap(kNf4Values) + absmax_error);
    }
  }
}

// 4 + 32/64 = 4.5 bits without double quantization; 4 + 8/64 + 32/(64·256) (+ the 32-bit offset) ≈ 4.127 with it.
TEST(Blockwise4Bit, BitsPerParameterMatchQlora) {
  const int64_t n_out = 256, n_in = 4096;
  std::vector<float> w(n_out * n_in, 0.5f);
  auto plain = quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), n_out, n_in, 64, false, 256);
  auto dq = quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), n_out, n_in, 64, true, 256);
  const double params = static_cast<double>(n_out * n_in);
  EXPECT_EQ(fmt::format("{:.3f}", 8.0 * plain->num_bytes() / params), "4.500");
  EXPECT_EQ(fmt::format("{:.3f}", 8.0 * dq->num_bytes() / params), "4.127");
  EXPECT_EQ(dq->num_bytes(), size_t{n_out * n_in / 2 + n_out * n_in / 64 + 4 * (n_out * n_in / 64 / 256) + 4});
}

TEST(Blockwise4Bit, ZeroBlockDequantizesToZero) {
  std::vector<float> w(128, 0.0f);
  w[70] = 1.0f;
  auto q = quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), 1, 128, 64, true, 256);
  std::vector<float> row(128);
  q->dequantize_row(0, row.data());
  for (int i = 0; i < 128; ++i) EXPECT_EQ(row[i], i == 70 ? 1.0f : 0.0f) << i;
}

TEST(Blockwise4Bit, RejectsOddSizes) {
  std::vector<float> w(64, 1.0f);
  try {
    quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), 1, 63, 64, false, 256);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
  }
  EXPECT_THROW(quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), 1, 64, 33, false, 256), Error);
  EXPECT_THROW(quantize_blockwise_4bit(WeightFormat::kInt8, w.data(), 1, 64, 64, false, 256), Error);
  EXPECT_THROW(Blockwise4BitWeight(WeightFormat::kNF4, 1, 64, 64, std::vector<uint8_t>(31), BlockScales::plain({1})),
               Error);
}

}  // namespace
}  // namespace pagedllm
