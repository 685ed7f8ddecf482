#include "kernels/fp8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pagedllm {
namespace {

using Encode = uint8_t (*)(float);
using Decode = float (*)(uint8_t);

struct Fp8Case {
  const char* name;
  Encode encode;
  Decode decode;
  uint8_t max_code;  // magnitude code of the largest finite value
  float max_value;
};

const Fp8Case kCases[] = {{"e4m3", &f32_to_fp8_e4m3, &fp8_e4m3_to_f32, 0x7E, 448.0f},
                          {"e5m2", &f32_to_fp8_e5m2, &fp8_e5m2_to_f32, 0x7B, 57344.0f}};

TEST(Fp8, DecodesTheNamedCodes) {
  EXPECT_EQ(fp8_e4m3_to_f32(0x00), 0.0f);
  EXPECT_TRUE(std::signbit(fp8_e4m3_to_f32(0x80)));
  EXPECT_EQ(fp8_e4m3_to_f32(0x01), 0x1.0p-9f);   // smallest subnormal
  EXPECT_EQ(fp8_e4m3_to_f32(0x07), 0x1.cp-7f);   // largest subnormal 7/8 · 2⁻⁶
  EXPECT_EQ(fp8_e4m3_to_f32(0x08), 0x1.0p-6f);   // smallest normal
  EXPECT_EQ(fp8_e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x3D), 1.625f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x7E), 448.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0xFE), -448.0f);
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0x7F)));
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0xFF)));
  EXPECT_EQ(fp8_e4m3_to_f32(0x78), 256.0f);  // E4M3 has no infinity: exponent 1111 is a normal binade

  EXPECT_EQ(fp8_e5m2_to_f32(0x01), 0x1.0p-16f);
  EXPECT_EQ(fp8_e5m2_to_f32(0x04), 0x1.0p-14f);
  EXPECT_EQ(fp8_e5m2_to_f32(0x3C), 1.0f);
  EXPECT_EQ(fp8_e5m2_to_f32(0x3E), 1.5f);
  EXPECT_EQ(fp8_e5m2_to_f32(0x7B), 57344.0f);
  EXPECT_EQ(fp8_e5m2_to_f32(0x7C), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fp8_e5m2_to_f32(0xFC), -std::numeric_limits<float>::infinity());
  for (int c : {0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF}) EXPECT_TRUE(std::isnan(fp8_e5m2_to_f32(c))) << c;
}

// All 256 codes: finite codes increase with the magnitude code, negate with the sign bit and encode back to
// themselves (-0 included); every other code is NaN (or E5M2's infinity).
TEST(Fp8, EveryCodeRoundTrips) {
  for (const Fp8Case& f : kCases) {
    for (int c = 0; c < 256; ++c) {
      const uint8_t mag = c & 0x7F;
      const float v = f.decode(c);
      SCOPED_TRACE(testing::Message() << f.name << " code " << c);
      if (mag > f.max_code) {
        EXPECT_TRUE(std::isnan(v) || std::isinf(v));
        continue;
      }
      EXPECT_EQ(f.encode(v), c);
      EXPECT_EQ(f.decode(c ^ 0x80), -v);
      EXPECT_EQ(std::signbit(v), (c & 0x80) != 0);
      if (mag > 0) {
        EXPECT_GT(std::fabs(v), std::fabs(f.decode(mag - 1)));
      }
    }
  }
}

// Between two neighbouring codes: the midpoint goes to the even code, anything off it to the nearer code.
TEST(Fp8, RoundsToNearestTiesToEven) {
  for (const Fp8Case& f : kCases) {
    for (int c = 0; c < f.max_code; ++c) {
      for (uint8_t sign : {uint8_t{0x00}, uint8_t{0x80}}) {
        const float lo = f.decode(sign | c), hi = f.decode(sign | (c + 1));
        const float mid = (lo + hi) / 2;  // exact: fp8 values have few significant bits
        SCOPED_TRACE(testing::Message() << f.name << " codes " << c << "," << c + 1 << " sign " << int(sign));
        EXPECT_EQ(f.encode(mid), sign | (c % 2 == 0 ? c : c + 1));
        EXPECT_EQ(f.encode(std::nextafter(mid, lo)), sign | c);
        EXPECT_EQ(f.encode(std::nextafter(mid, hi)), sign | (c + 1));
      }
    }
  }
}

TEST(Fp8, SaturatesOverflowAndInfinityAndKeepsNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  for (const Fp8Case& f : kCases) {
    SCOPED_TRACE(f.name);
    for (float x : {f.max_value, std::nextafter(f.max_value, inf), f.max_value * 1.0625f, f.max_value * 2, 1e30f, inf}) {
      EXPECT_EQ(f.encode(x), f.max_code) << x;
      EXPECT_EQ(f.encode(-x), 0x80 | f.max_code) << x;
    }
    EXPECT_TRUE(std::isnan(f.decode(f.encode(std::numeric_limits<float>::quiet_NaN()))));
    EXPECT_TRUE(std::isnan(f.decode(f.encode(-std::numeric_limits<float>::quiet_NaN()))));
  }
}

TEST(Fp8, UnderflowRoundsToZeroOrTheSmallestSubnormal) {
  for (const Fp8Case& f : kCases) {
    SCOPED_TRACE(f.name);
    const float tiny = f.decode(0x01);
    EXPECT_EQ(f.encode(tiny / 2), 0x00);  // a tie: to even, zero
    EXPECT_EQ(f.encode(-tiny / 2), 0x80);
    EXPECT_EQ(f.encode(std::nextafter(tiny / 2, 1.0f)), 0x01);
    EXPECT_EQ(f.encode(std::numeric_limits<float>::denorm_min()), 0x00);
    EXPECT_EQ(f.encode(0.0f), 0x00);
    EXPECT_EQ(f.encode(-0.0f), 0x80);
  }
}

}  // namespace
}  // namespace pagedllm
