// The code books of the quantized weight formats and the value → code maps that go with them, bit-exact with
// bitsandbytes where bitsandbytes defines the format (research/formats.md §5, research/papers.md §B.2–B.3).
//
// Every 4-bit format is "code value × block absmax": a 16-entry table indexed by the 4-bit code. A value x of a
// block is first scaled to [-1, 1] as x · (1 / absmax) (bitsandbytes multiplies by the reciprocal), then mapped
// to a code.
#pragma once

#include <array>
#include <cstdint>

namespace pagedllm {

// bitsandbytes' NF4 values (get_4bit_type("nf4")), index = 4-bit code, ascending; code 7 is exactly 0.
extern const std::array<float, 16> kNf4Values;

// bitsandbytes' FP4 (E2M1, bias 2) values in bit-pattern order: bit 3 is the sign, bits 0–2 the magnitude
// {0, 0.0625, 8, 12, 4, 6, 2, 3} / 12. Code 8 is -0.
extern const std::array<float, 16> kFp4Values;

// The QLoRA paper's Int4 baseline: symmetric absmax quantization to the 15 levels -7..7, stored as code q + 8.
// Code 0 (-8/7) is never produced; it is kept so every 4-bit format decodes through one 16-entry table.
extern const std::array<float, 16> kInt4Values;

// bitsandbytes' dQuantizeNF4: the number of decision thresholds (midpoints of adjacent NF4 values, as literal
// constants in bnb's kernels) that x exceeds, so a value exactly on a midpoint takes the lower code.
uint8_t quantize_nf4(float x);

// bitsandbytes' dQuantizeFP4: sign bit from x < 0, magnitude by its midpoint tree (|x| exactly on a midpoint takes
// the smaller magnitude).
uint8_t quantize_fp4(float x);

// round-half-to-even(7 · x) clamped to [-7, 7], plus 8. x is in [-1, 1].
uint8_t quantize_int4(float x);

// bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): 256 ascending values in
// [-0.99296875, 1]; index 127 is 0 and index 255 is 1. Values are computed in double and rounded to float, so each
// is within one float ulp of the table bnb builds with torch float32 arithmetic. Built once, shared.
const std::array<float, 256>& dynamic_map_signed();

// Index of the entry of the ascending table `code` (num_codes entries) nearest to x; ties take the lower index,
// as bnb's reference quantize_blockwise (argmin of |x - code|) does.
uint8_t nearest_code_index(const float* code, int num_codes, float x);

}  // namespace pagedllm
