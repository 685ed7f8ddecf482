#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "quant/int8_weight.h"
#include "quant/q8_0_weight.h"
#include "util/error.h"
#include "util/half.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

// absmax 1 → factor 127: 1 → 127, -0.5 → -63.5 → -64 (half to even), 0.25 → 31.75 → 32, 0.0039 → 0.4953 → 0.
TEST(Int8Weight, RowCodesOnFixedVector) {
  const float w[4] = {1.0f, -0.5f, 0.25f, 0.0039f};
  auto q = quantize_int8_rows(w, 1, 4);
  EXPECT_EQ(q->q(), (std::vector<int8_t>{127, -64, 32, 0}));
  EXPECT_EQ(q->scales(), std::vector<float>{1.0f / 127.0f});
  EXPECT_EQ(q->num_bytes(), 4u + 4u);
}

TEST(Int8Weight, RoundTripWithinHalfScale) {
  Rng rng(3);
  const int64_t n_out = 17, n_in = 100;
  std::vector<float> w(n_out * n_in);
  for (float& v : w) v = static_cast<float>(rng.normal());
  w[5] = 0.0f;
  auto q = quantize_int8_rows(w.data(), n_out, n_in);
  std::vector<float> row(n_in);
  for (int64_t j = 0; j < n_out; ++j) {
    q->dequantize_row(j, row.data());
    // Half a step, plus fp32 rounding of x · (127 / absmax) and of q · scale (relative 1e-6 of absmax).
    const float bound = q->scales()[j] / 2 + 1e-6f * 127 * q->scales()[j];
    for (int64_t i = 0; i < n_in; ++i) ASSERT_LE(std::fabs(w[j * n_in + i] - row[i]), bound) << j << "," << i;
  }
}

// ggml's quantize_row_q8_0_ref on a block with absmax 127/128: d = 1/128 (exact in f16: 0x2000), 1/d = 128, and
// roundf goes half away from zero: 2.5/128 → 3, -2.5/128 → -3, 0.4/128 → 0.
TEST(Q8_0Weight, BlockBytesMatchGgmlReference) {
  std::vector<float> w(32, 0.0f);
  w[0] = 127.0f / 128;
  w[1] = -127.0f / 128;
  w[2] = 2.5f / 128;
  w[3] = -2.5f / 128;
  w[4] = 0.4f / 128;
  w[31] = 64.0f / 128;
  auto q = quantize_q8_0(w.data(), 1, 32);
  const auto& b = q->blocks();
  ASSERT_EQ(b.size(), 34u);
  EXPECT_EQ(b[0], 0x00);
  EXPECT_EQ(b[1], 0x20);
  EXPECT_EQ(static_cast<int8_t>(b[2]), 127);
  EXPECT_EQ(static_cast<int8_t>(b[3]), -127);
  EXPECT_EQ(static_cast<int8_t>(b[4]), 3);
  EXPECT_EQ(static_cast<int8_t>(b[5]), -3);
  EXPECT_EQ(static_cast<int8_t>(b[6]), 0);
  EXPECT_EQ(static_cast<int8_t>(b[33]), 64);
}

TEST(Q8_0Weight, RoundTripWithinHalfScale) {
  Rng rng(4);
  const int64_t n_out = 9, n_in = 96;
  std::vector<float> w(n_out * n_in);
  for (float& v : w) v = static_cast<float>(rng.normal());
  auto q = quantize_q8_0(w.data(), n_out, n_in);
  std::vector<float> row(n_in);
  for (int64_t j = 0; j < n_out; ++j) {
    q->dequantize_row(j, row.data());
    for (int64_t i = 0; i < n_in; ++i) {
      uint16_t d_bits;
      std::memcpy(&d_bits, q->blocks().data() + (j * n_in / 32 + i / 32) * 34, 2);
      // The stored d is f16(absmax / 127): relative error ≤ 2^-11 on each of the ≤ 127 steps, plus half a step.
      const float d = f16_to_f32(d_bits);
      ASSERT_LE(std::fabs(w[j * n_in + i] - row[i]), d / 2 + 127 * d * 0x1p-11f + 1e-6f) << j << "," << i;
    }
  }
}

TEST(Q8_0Weight, RejectsRowLengthNotMultipleOf32) {
  std::vector<float> w(48, 1.0f);
  try {
    quantize_q8_0(w.data(), 1, 48);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
  }
  EXPECT_THROW(Q8_0Weight(1, 32, std::vector<uint8_t>(33)), Error);
}

}  // namespace
}  // namespace pagedllm
