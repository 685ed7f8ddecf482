#include "kernels/fp8.h"

#include <array>
#include <cmath>
#include <limits>

namespace pagedllm {
namespace {

// A sign-magnitude 8-bit float with kExpBits exponent bits (bias 2^(kExpBits-1) - 1) and kManBits mantissa bits;
// kMaxCode is the magnitude code of the largest finite value.
template <int kExpBits, int kManBits, uint8_t kMaxCode>
struct Fp8Format {
  static constexpr int kBias = (1 << (kExpBits - 1)) - 1;

  static float decode_magnitude(uint8_t mag) {
    int exp = mag >> kManBits;
    int man = mag & ((1 << kManBits) - 1);
    if (exp == 0) return std::ldexp(static_cast<float>(man), 1 - kBias - kManBits);
    return std::ldexp(static_cast<float>((1 << kManBits) + man), exp - kBias - kManBits);
  }

  static uint8_t encode(float x) {
    const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
    if (std::isnan(x)) return sign | 0x7F;
    const float a = std::fabs(x);
    const float max = decode_magnitude(kMaxCode);
    if (a >= max) return sign | kMaxCode;
    // Below the smallest normal the step is the subnormal unit; above it, 2^(e - kManBits) in binade [2^e, 2^(e+1)).
    // a / step is exact (a power of two), and nearbyint rounds it to nearest-even under the default rounding mode.
    int e = std::ilogb(a);  // a == 0 gives a very negative e, handled as subnormal
    if (a == 0.0f || e < 1 - kBias) e = 1 - kBias;
    const float steps = std::nearbyint(std::ldexp(a, kManBits - e));
    // steps is in [0, 2^(kManBits+1)]; reaching 2^(kManBits+1) carries into the next binade, which the code
    // arithmetic below does by itself (mantissa overflow increments the exponent field).
    int code;
    if (e == 1 - kBias && steps < (1 << kManBits)) {
      code = static_cast<int>(steps);  // subnormal (or zero)
    } else {
      code = ((e + kBias) << kManBits) + static_cast<int>(steps) - (1 << kManBits);
    }
    if (code > kMaxCode) code = kMaxCode;  // rounded up past max: saturate
    return sign | static_cast<uint8_t>(code);
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
