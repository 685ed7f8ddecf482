// The two OCP 8-bit floats of the KV cache, encoded from and decoded to fp32.
//   E4M3 ("fn"): 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities; S.1111.111 is NaN; max 448;
//                subnormals m/8 · 2⁻⁶.
//   E5M2:        1 sign, 5 exponent (bias 15), 2 mantissa bits; IEEE-like (S.11111.00 = inf, .01–.11 NaN);
//                max finite 57344; subnormals m/4 · 2⁻¹⁴.
// Encoding rounds to nearest, ties to even, and saturates: any magnitude above the largest finite value,
// infinities included, becomes ±max (CUDA's __NV_SATFINITE, what vLLM's fp8 cache uses), so one outlier cannot
// put an infinity into attention. NaN stays NaN (0x7F with the input's sign).
#pragma once

#include <cstdint>

namespace pagedllm {

uint8_t f32_to_fp8_e4m3(float x);
uint8_t f32_to_fp8_e5m2(float x);

// Every code's value (256 floats, exact): the tables the attention kernels widen through.
const float* fp8_e4m3_table();
const float* fp8_e5m2_table();

inline float fp8_e4m3_to_f32(uint8_t code) { return fp8_e4m3_table()[code]; }
inline float fp8_e5m2_to_f32(uint8_t code) { return fp8_e5m2_table()[code]; }

}  // namespace pagedllm
