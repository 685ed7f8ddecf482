#include "quant/codebooks.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

TEST(Codebooks, Nf4ValuesMapToTheirOwnCodes) {
  for (int c = 0; c < 16; ++c) EXPECT_EQ(quantize_nf4(kNf4Values[c]), c) << c;
}

// bnb's thresholds are the midpoints of adjacent NF4 values; a value exactly on one takes the lower code
// (the kernel tests `x > threshold`).
TEST(Codebooks, Nf4DecisionsAreMidpointsWithTiesDown) {
  for (int c = 0; c < 15; ++c) {
    const float midpoint = (kNf4Values[c] + kNf4Values[c + 1]) / 2;
    EXPECT_EQ(quantize_nf4(midpoint - 1e-6f), c) << c;
    EXPECT_EQ(quantize_nf4(midpoint + 1e-6f), c + 1) << c;
  }
  EXPECT_EQ(quantize_nf4(0.03979014977812767f), 7);  // bnb's literal threshold between 0 and 0.0796
  EXPECT_EQ(quantize_nf4(-2.0f), 0);
  EXPECT_EQ(quantize_nf4(2.0f), 15);
}

TEST(Codebooks, Fp4UsesBitsandbytesBitPatterns) {
  // Bit-pattern order: magnitudes {0, 0.0625, 8, 12, 4, 6, 2, 3} / 12, bit 3 = sign.
  EXPECT_FLOAT_EQ(kFp4Values[3], 1.0f);
  EXPECT_FLOAT_EQ(kFp4Values[2], 8.0f / 12);
  EXPECT_FLOAT_EQ(kFp4Values[6], 2.0f / 12);
  EXPECT_FLOAT_EQ(kFp4Values[11], -1.0f);
  for (int c = 0; c < 16; ++c) {
    if (c == 8) continue;  // -0 has no sign in bnb's quantizer (x < 0 is false): it maps to code 0
    EXPECT_EQ(quantize_fp4(kFp4Values[c]), c) << c;
  }
  EXPECT_EQ(quantize_fp4(-0.0f), 0);
  EXPECT_EQ(quantize_fp4(0.29f), 0b0111);   // below the 0.29166667 pivot: 3/12
  EXPECT_EQ(quantize_fp4(0.30f), 0b0100);   // above it: 4/12
  EXPECT_EQ(quantize_fp4(-0.9f), 0b1011);   // -12/12
  EXPECT_EQ(quantize_fp4(0.002f), 0b0000);  // below 0.00260417: zero
}

TEST(Codebooks, Int4RoundsHalfToEvenOnSevenLevels) {
  EXPECT_EQ(quantize_int4(1.0f), 15);
  EXPECT_EQ(quantize_int4(-1.0f), 1);
  EXPECT_EQ(quantize_int4(0.0f), 8);
  EXPECT_EQ(quantize_int4(0.5f / 7), 8);   // 0.5 → 0 (half to even)
  EXPECT_EQ(quantize_int4(1.5f / 7), 10);  // 1.5 → 2
  EXPECT_FLOAT_EQ(kInt4Values[15], 1.0f);
  EXPECT_FLOAT_EQ(kInt4Values[8], 0.0f);
}

// create_dynamic_map(signed=True): exponent group i contributes ±10^(i-6) · means of linspace(0.1, 1, 2^i + 1).
// Group 6 (2^6 = 64 means, step 0.9/64) holds the largest magnitudes: mean k is 0.1 + 0.0140625 (k + 0.5), so
// k = 63 gives 0.99296875 and k = 28 gives 0.50078125. Sorted, negatives occupy 0..126, 0 is at
// 127, positives 128..254 and 1.0 at 255; the 63 positive values of groups 0..5 are all < 0.1, so group-6 mean k
// sits at 128 + 63 + k, and its negative at 126 - 63 - k.
TEST(Codebooks, DynamicMapFollowsBitsandbytesConstruction) {
  const auto& map = dynamic_map_signed();
  for (int i = 1; i < 256; ++i) EXPECT_LT(map[i - 1], map[i]) << i;
  EXPECT_FLOAT_EQ(map[0], -0.99296875f);
  EXPECT_EQ(map[127], 0.0f);
  EXPECT_FLOAT_EQ(map[128], 5.5e-7f);  // group 0: 10^-6 · (0.1 + 1) / 2
  EXPECT_FLOAT_EQ(map[126], -5.5e-7f);
  EXPECT_FLOAT_EQ(map[219], 0.50078125f);
  EXPECT_FLOAT_EQ(map[35], -0.50078125f);
  EXPECT_FLOAT_EQ(map[254], 0.99296875f);
  EXPECT_EQ(map[255], 1.0f);
}

TEST(Codebooks, NearestCodeIndexTakesLowerIndexOnTies) {
  const float code[4] = {-1.0f, 0.0f, 0.5f, 1.0f};
  EXPECT_EQ(nearest_code_index(code, 4, -2.0f), 0);
  EXPECT_EQ(nearest_code_index(code, 4, 0.25f), 1);  // tie between 0 and 0.5
  EXPECT_EQ(nearest_code_index(code, 4, 0.26f), 2);
  EXPECT_EQ(nearest_code_index(code, 4, 0.75f), 2);  // tie between 0.5 and 1
  EXPECT_EQ(nearest_code_index(code, 4, 3.0f), 3);
  EXPECT_EQ(nearest_code_index(code, 4, -0.5f), 0);
}

}  // namespace
}  // namespace pagedllm
