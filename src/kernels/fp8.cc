#include "kernels/fp8.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace pagedllm {
namespace {

// A sign-magnitude 8-bit float with kExpBits exponent bits (bias 2^(kExpBits-1) - 1) and kManBits mantissa bits;
// kMaxCode is the magnitude code of the largest finite value.
template <int kExpBits, int kManBits, uint8_t kMaxCode>
struct Fp8Format {
  static constexpr int kBias = (1 << (kExpBits - 1)) - 1;

  // 2^e, exactly, at compile time (e in fp32's normal range).
  static constexpr float pow2(int e) {
    float x = 1.0f;
    for (; e > 0; --e) x *= 2.0f;
    for (; e < 0; ++e) x *= 0.5f;
    return x;
  }

  static constexpr float decode_magnitude(uint8_t mag) {
    const int exp = mag >> kManBits;
    const int man = mag & ((1 << kManBits) - 1);
    if (exp == 0) return static_cast<float>(man) * pow2(1 - kBias - kManBits);
    return static_cast<float>((1 << kManBits) + man) * pow2(exp - kBias - kManBits);
  }

  static constexpr float kMaxValue = decode_magnitude(kMaxCode);

  // Integer arithmetic on the fp32 bits (no libm calls: the KV cache encodes every key and value it stores).
  static uint8_t encode(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    const uint8_t sign = static_cast<uint8_t>((bits >> 24) & 0x80);
    const uint32_t abs = bits & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return sign | 0x7F;  // NaN
    const float a = std::fabs(x);
    if (a >= kMaxValue) return sign | kMaxCode;  // saturate, infinities included
    constexpr int kShift = 23 - kManBits;                         // fp32 mantissa bits dropped
    constexpr uint32_t kMinNormalBits = static_cast<uint32_t>(127 + 1 - kBias) << 23;
    if (abs < kMinNormalBits) {
      // Subnormal: a / 2^(1 - kBias - kManBits) < 2^kManBits, exact (a power of two); adding and subtracting 2^23
      // rounds it to an integer, nearest-even, in fp32 arithmetic.
      const float units = a * static_cast<float>(1u << (kBias - 1 + kManBits));
      const float rounded = (units + 0x1.0p23f) - 0x1.0p23f;
      return sign | static_cast<uint8_t>(rounded);  // 2^kManBits here is the smallest normal's code
    }
    // Normal: round the fp32 mantissa to kManBits bits, nearest-even (a carry bumps the exponent field, which is
    // the next binade's code), then rebias the exponent from 127 to kBias.
    const uint32_t rounded = (abs + ((1u << (kShift - 1)) - 1) + ((abs >> kShift) & 1u)) >> kShift;
    return sign | static_cast<uint8_t>(rounded - (static_cast<uint32_t>(127 - kBias) << kManBits));
  }

  static std::array<float, 256> table() {
    std::array<float, 256> t{};
    for (int c = 0; c < 256; ++c) {
      uint8_t mag = c & 0x7F;
      float v = mag > kMaxCode ? std::numeric_limits<float>::quiet_NaN() : decode_magnitude(mag);
      if (mag > kMaxCode && kExpBits == 5 && mag == 0x7C) v = std::numeric_limits<float>::infinity();
      t[c] = (c & 0x80) ? -v : v;
    }
    return t;
  }
};

using E4M3 = Fp8Format<4, 3, 0x7E>;
using E5M2 = Fp8Format<5, 2, 0x7B>;
static_assert(E4M3::kMaxValue == 448.0f && E5M2::kMaxValue == 57344.0f);

}  // namespace

const float* fp8_e4m3_table() {
  static const std::array<float, 256> table = E4M3::table();
  return table.data();
}

const float* fp8_e5m2_table() {
  static const std::array<float, 256> table = E5M2::table();
  return table.data();
}

uint8_t f32_to_fp8_e4m3(float x) { return E4M3::encode(x); }
uint8_t f32_to_fp8_e5m2(float x) { return E5M2::encode(x); }

}  // namespace pagedllm
