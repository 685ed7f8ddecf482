// Decode kernels of the quantized formats: one weight row against a few input rows, dequantizing in registers so
// each weight byte is read once for all of them. This header holds what every instruction set's version shares:
// the contract of each kernel and the input layouts they read. The kernels themselves are declared per folder, as
// in kernels/: generic/quant_kernels.h (portable, always compiled: the reference), x86_avx2/quant_kernels.h
// (entered only when has_avx2_fma_f16c()) and x86_avx512/quant_kernels.h (AVX-512 VNNI, only when
// has_avx512_vnni()). The versions compute the same sums in a different order (the AVX2 4-bit kernel multiplies
// each block's partial sum by its absmax once), and tests compare each with the generic one and with
// dequantize-then-fp32.
//
// Shapes: n_in is the row length of W; the input rows are x[r * x_stride + i], r < n_rows; the results go to
// out[r * out_stride]. The AVX2 versions take the input rows kMaxDecodeTile at a time (the weight row stays in L1
// after the first tile).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pagedllm {

constexpr int64_t kMaxDecodeTile = 4;

// 4-bit blockwise (NF4, FP4, INT4): byte k of `codes` holds element 2k in its high nibble and 2k+1 in its low
// nibble (bitsandbytes' order). Blocks follow the flattened matrix, so a row may start inside a block: element i of
// this row lies in block (first_offset + i) / block_size of `scales` (first_offset = (row · n_in) % block_size, even),
// and its weight is lut[code(i)] · scales[that block].
// The input comes regrouped to match the decoder: every 8 consecutive values of a row (4 packed bytes) are stored
// evens first, x_quads[r * n_in + 8g + {0..7}] = x[r][8g + {0, 2, 4, 6, 1, 3, 5, 7}] (make_4bit_quads).
// n_in and block_size are even.

// Dequantization of n 4-bit values (n even) that share one scale, codes in the order above:
// out[2k] = lut[codes[k] >> 4] · scale, out[2k + 1] = lut[codes[k] & 15] · scale. Both versions compute the same
// single product per value, so they agree exactly. Used to fill the fp32 tiles of the prefill / training GEMMs.

// x (n_rows, n_in) → the regrouped layout above (n_in even; a last group of fewer than 8 keeps the same rule:
// its evens, then its odds).
void make_4bit_quads(const float* x, int64_t n_in, int64_t n_rows, float* x_quads);

// Position of elements 2k (even) and 2k + 1 (odd) of a row in the regrouped layout.
inline int64_t quad_even_index(int64_t k) { return 8 * (k / 4) + k % 4; }
inline int64_t quad_odd_index(int64_t k, int64_t n_in) {
  const int64_t pairs_in_group = n_in / 2 - (k / 4) * 4;
  return 8 * (k / 4) + (pairs_in_group < 4 ? pairs_in_group : 4) + k % 4;
}

// 8-bit activations (the fast decode paths, as llama.cpp computes its quantized dots). The input is quantized per
// group of 32 consecutive values of a row: d = max|x| / 127, q = round(x / d), xd[r * (n_in / 32) + g] = d. The 32
// levels of a group are stored in natural order for INT8 and Q8_0, and for the 4-bit formats in the order a 16-byte
// run of codes decodes into, evens then odds: xq[r * n_in + 32g + {0..15}] = q[32g + {0, 2, .., 30}],
// xq[r * n_in + 32g + {16..31}] = q[32g + {1, 3, .., 31}] (make_q8_activations). A group's dot product with int8
// weights is then an exact integer sum, scaled by d and the weights' scale. The results differ from the fp32
// kernels by the rounding of x: |Δ| ≤ Σ_i |w_i| · d_i / 2, plus fp32 summation error.
enum class Q8Order { kNatural, kEvensThenOdds };
// Whether decode uses them: false when the environment sets PAGEDLLM_EXACT_QUANT_DECODE=1.
bool q8_activations_enabled();
void make_q8_activations(const float* x, int64_t n_in, int64_t n_rows, Q8Order order, int8_t* xq, float* xd);

// For the VNNI kernels, which multiply unsigned by signed bytes (vpdpbusd): the weights enter as w + 128 (unsigned)
// and Σ (w + 128) · x = Σ w · x + 128 · Σ x. lane_sums[i] = -128 · Σ of levels 4i .. 4i + 3 (one int32 lane of
// vpdpbusd) starts each lane's sum, so what remains is exactly Σ w · x.
void make_q8_lane_sums(const int8_t* xq, int64_t n_levels, int32_t* lane_sums);

// The quantized input of one decode matmul (n_rows × n_in levels, n_rows × n_in / 32 steps, n_rows × n_in / 4
// lane sums).
class Q8Activations {
 public:
  Q8Activations() = default;
  Q8Activations(const float* x, int64_t n_in, int64_t n_rows, Q8Order order)
      : levels_(static_cast<size_t>(n_rows * n_in)),
        steps_(static_cast<size_t>(n_rows * n_in / 32)),
        lane_sums_(static_cast<size_t>(n_rows * n_in / 4)) {
    make_q8_activations(x, n_in, n_rows, order, levels_.data(), steps_.data());
    make_q8_lane_sums(levels_.data(), n_rows * n_in, lane_sums_.data());
  }
  const int8_t* levels() const { return levels_.data(); }
  const float* steps() const { return steps_.data(); }
  const int32_t* lane_sums() const { return lane_sums_.data(); }

 private:
  std::vector<int8_t> levels_;
  std::vector<float> steps_;
  std::vector<int32_t> lane_sums_;
};

// The input of the VNNI 4-bit kernel, laid out so that 64 bytes of codes (4 groups of 32) meet their levels without
// permutes. Per row, each chunk c of 4 groups (128 values) holds the evens of its 4 groups (16 each, in group
// order) and then their odds: levels[128c + 16k + i] = q[128c + 32k + 2i], levels[128c + 64 + 16k + i] =
// q[128c + 32k + 2i + 1]; the starts of its 16 int32 lanes (lane l covers levels 4l..4l+3 of both halves, so
// starts[16c + l] = -128 · Σ of those 8 levels) and their steps (steps[16c + l] = xd[4c + l / 4] / 127, the code
// values' step folded in). The last n_in / 32 % 4 groups keep the evens-then-odds layout, 8 lanes each after the
// chunks' (starts as make_q8_lane_sums gives them, each group's step / 127 in its 8 lanes). Per row n_in levels and
// n_in / 4 starts and steps. The quantization of x is make_q8_activations'.
class Q8QuadActivations {
 public:
  Q8QuadActivations() = default;
  Q8QuadActivations(const float* x, int64_t n_in, int64_t n_rows);
  const int8_t* levels() const { return levels_.data(); }
  const int32_t* starts() const { return starts_.data(); }
  const float* steps() const { return steps_.data(); }

 private:
  std::vector<int8_t> levels_;
  std::vector<int32_t> starts_;
  std::vector<float> steps_;
};

// 4-bit codes against 8-bit activations (kEvensThenOdds): the 16 code values become int8 as round(127 · lut[c])
// (lut_i8, code_values_int8), and a group's integer sum is scaled by d · absmax / 127, absmax being that of the block
// holding the group. Needs n_in % 32 == 0 and block_size % 32 == 0 (q8_activations_apply), so that no group
// straddles two blocks: group g of the row lies in block (first_group + g) / groups_per_block of `scales`, with
// first_group = first_offset / 32 and groups_per_block = block_size / 32. The rounding of the code values adds
// |Δ| ≤ Σ_i (|x_i| · absmax_i / 254 + d_i · absmax_i / 508) to the bound above.
bool q8_activations_apply(int64_t n_in, int64_t block_size);
std::array<int8_t, 16> code_values_int8(const float* lut);

// INT8 rows and Q8_0 blocks against 8-bit activations (kNatural; n_in % 32 == 0):
// INT8: out = scale · Σ_g d_g · Σ_i q_i x̂_i;  Q8_0: out = Σ_b f16(d_b) · d_g · Σ_i q_i x̂_i (block b = group g).

// The same three 8-bit-activation kernels with AVX-512 VNNI (src/quant/x86_avx512/, entered only when
// has_avx512_vnni()): 64 weights per vpdpbusd, the lane sums above starting each group's integer sum. The
// integer group sums are identical to the AVX2 kernels'; only the fp32 summation order differs.
// The 4-bit kernel on Q8QuadActivations, for n_in % 64 == 0 and blocks of 2^block_shift groups with
// block_shift ≥ 1 and first_group even (vnni_quads_apply): same integer group sums as the kernels above.
// It runs over n_weight_rows consecutive rows of W (n_in / 2 bytes of codes each, from `codes`) whose constants
// follow each other from `scales`; first_group is the first row's first group counted from the block `scales`
// points at. out[r * out_stride + j] = input row r · weight row j.
bool vnni_quads_apply(int64_t n_in, int64_t block_size);
// INT8 and Q8_0 over n_weight_rows consecutive rows of W (scales[j] is row j's INT8 scale):
// out[r * out_stride + j] = input row r · weight row j.

// INT8 per row: out = scale · Σ q[i] · x[i]. The AVX2 version needs n_in % 16 == 0 (else use the generic one).

// Q8_0 (GGUF block layout): n_in / 32 blocks of 34 bytes {f16 d; int8 q[32]}; out = Σ_b d_b · Σ_j q_bj · x_bj.

}  // namespace pagedllm
