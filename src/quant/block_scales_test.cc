#include "quant/block_scales.h"

#include <gtest/gtest.h>

#include <cmath>

#include "quant/codebooks.h"
#include "util/error.h"

namespace pagedllm {
namespace {

// Hand-derived from bnb's quantize_4bit(compress_statistics=True): offset = mean(1, 2, 3, 2.5, 1.5) = 2; the
// centered constants {-1, 0, 1, 0.5, -0.5} have absmax 1 (one nested block), so they are looked up directly in the
// dynamic map (see codebooks_test): -1 → nearest -0.99296875 (index 0), 0 → 127, 1 → 255, 0.5 → 0.50078125 (219),
// -0.5 → 35. Dequantized: map value · 1 + 2.
TEST(BlockScales, DoubleQuantConstantsMatchBitsandbytes) {
  const BlockScales s = BlockScales::double_quantized({1.0f, 2.0f, 3.0f, 2.5f, 1.5f}, 256);
  ASSERT_TRUE(s.is_nested());
  EXPECT_FLOAT_EQ(s.offset(), 2.0f);
  ASSERT_EQ(s.nested_absmax().size(), 1u);
  EXPECT_FLOAT_EQ(s.nested_absmax()[0], 1.0f);
  EXPECT_EQ(s.codes(), (std::vector<uint8_t>{0, 127, 255, 219, 35}));
  const float expected[5] = {2.0f - 0.99296875f, 2.0f, 3.0f, 2.50078125f, 1.49921875f};
  for (int b = 0; b < 5; ++b) EXPECT_NEAR(s.scale(b), expected[b], 1e-6f) << b;
  // 5 code bytes + 1 nested absmax + the offset.
  EXPECT_EQ(s.num_bytes(), 5u + 4u + 4u);
}

// Each nested block of constants has its own absmax; the last one may be partial.
TEST(BlockScales, NestedBlocksHaveTheirOwnAbsmax) {
  std::vector<float> absmax(300);
  for (size_t i = 0; i < absmax.size(); ++i) absmax[i] = 1.0f + 0.01f * static_cast<float>(i % 97);
  const BlockScales s = BlockScales::double_quantized(absmax, 256);
  ASSERT_EQ(s.nested_absmax().size(), 2u);
  double mean = 0;
  for (float a : absmax) mean += a;
  mean /= absmax.size();
  EXPECT_NEAR(s.offset(), mean, 1e-6);
  for (int nb = 0; nb < 2; ++nb) {
    float expected_max = 0;
    for (size_t i = nb * 256; i < std::min<size_t>(absmax.size(), (nb + 1) * 256); ++i) {
      expected_max = std::max(expected_max, std::fabs(absmax[i] - s.offset()));
    }
    EXPECT_FLOAT_EQ(s.nested_absmax()[nb], expected_max);
  }
  // Round trip: the largest half-gap of the dynamic map is half the group-6 step, 0.9 / 64 / 2 = 0.00703125
  // (fp32 slack 1e-6).
  for (size_t b = 0; b < absmax.size(); ++b) {
    EXPECT_LE(std::fabs(s.scale(b) - absmax[b]), s.nested_absmax()[b / 256] * 0.00703125f + 1e-6f) << b;
  }
}

TEST(BlockScales, EqualConstantsDequantizeExactly) {
  const BlockScales s = BlockScales::double_quantized(std::vector<float>(10, 0.25f), 256);
  for (int b = 0; b < 10; ++b) {
    EXPECT_EQ(s.codes()[b], 127);
    EXPECT_EQ(s.scale(b), 0.25f);
  }
}

TEST(BlockScales, PlainConstantsAreStoredAsIs) {
  const BlockScales s = BlockScales::plain({0.5f, 1.5f});
  EXPECT_FALSE(s.is_nested());
  EXPECT_EQ(s.scale(1), 1.5f);
  EXPECT_EQ(s.num_bytes(), 8u);
}

TEST(BlockScales, FromNestedRejectsInconsistentSizes) {
  const auto& map = dynamic_map_signed();
  std::vector<float> code(map.begin(), map.end());
  try {
    BlockScales::from_nested(std::vector<uint8_t>(300), {1.0f}, 256, 0.0f, code, "layer.weight");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("layer.weight"), std::string::npos);
  }
  EXPECT_THROW(BlockScales::from_nested(std::vector<uint8_t>(3), {1.0f}, 256, 0.0f, {1.0f}, "w"), Error);
  const BlockScales ok = BlockScales::from_nested({127, 255}, {2.0f}, 256, 1.0f, code, "w");
  EXPECT_EQ(ok.scale(0), 1.0f);
  EXPECT_EQ(ok.scale(1), 3.0f);
}

// dequantize() (one run per nested block) gives bit for bit scale(i), for runs that start anywhere and cross nested
// blocks.
TEST(BlockScales, DequantizeRunsEqualScaleOfEachBlock) {
  std::vector<float> absmax(1000);
  for (size_t i = 0; i < absmax.size(); ++i) absmax[i] = 0.01f + static_cast<float>((i * 7919) % 1000) * 1e-3f;
  const BlockScales scales = BlockScales::double_quantized(absmax, 256);
  for (int64_t first : {0, 3, 250, 511, 990}) {
    for (int64_t count : {1, 7, 8, 33, 300}) {
      if (first + count > 1000) continue;
      std::vector<float> out(count);
      scales.dequantize(first, count, out.data());
      for (int64_t i = 0; i < count; ++i) {
        ASSERT_EQ(out[i], scales.scale(first + i)) << first << " " << count << " " << i;
      }
    }
  }
}

}  // namespace
}  // namespace pagedllm
