// GEMMs on Intel AMX tiles (Sapphire Rapids and later), on the calling thread, on either tile backend:
// kHardware runs the instructions (only where cpu_features says has_amx_bf16() / has_amx_int8(); anything else is
// a bug in the caller and fails a CHECK), kEmulated runs the same blocking on the portable tile model
// (amx/emulated_tiles.h), on any CPU, slowly: the tests' and the hardware path's reference.
// Blocking, packing and loops: amx/tile_gemm.h, shared by both backends.
#pragma once

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace pagedllm::amx {

enum class TileBackend { kHardware, kEmulated };

// C[m, n] = A[m, k] · op(B) + beta · C, row-major, op(B) = Bᵀ (b: (n, k)) when trans_b, else B (b: (k, n)); B's
// elements kF32, kF16 or kBF16. The contract of avx512_bf16::gemm_bf16: A and B rounded to bf16 nearest-even, fp32
// accumulation (tdpbf16ps, 32 k per tile, the k in depth blocks of 512 summed through C), so
// |C − C_exact| ≤ (2⁻⁷ + 2⁻¹⁶) · Σ_p |a_ip·b_pj| plus fp32 summation error. beta 0 ignores C's previous contents.
void gemm_bf16(TileBackend backend, WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k,
               const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc);

// The int8 product, exact: C_i32[m, n] = (accumulate ? C : 0) + A_u8[m, k0 : k0 + k] · B_s8[n, k0 : k0 + k]ᵀ
// (tdpbusd; int32 sums wrap modulo 2³² as the hardware's do, which |Σ| < 2³¹ never reaches: 255 · 128 · k
// stays below it for k < 65,793). A blocked quantized product packs A and B once over their whole depth k_packed
// and calls this per block of k (k0, k multiples of 64), scaling each int32 result tile itself.
//
// Packed layouts (k_packed a multiple of 64; 1 KiB tiles, zero past m, n):
//   A: ⌈m / 16⌉ panels of k_packed / 64 tiles; tile (panel s, step q) byte 64·r + e = A[16s + r, 64q + e].
//   B: ⌈n / 16⌉ panels of k_packed / 64 tiles; tile (panel s, step q) byte 64·r + 4·j + e = B[16s + j, 64q + 4r + e]
//      (the VNNI layout: four consecutive k of one row of B per 32-bit word).
int64_t packed_u8_a_bytes(int64_t m, int64_t k_packed);
void pack_u8_a(int64_t m, int64_t k_packed, const uint8_t* a, int64_t lda, uint8_t* packed);
int64_t packed_s8_b_bytes(int64_t n, int64_t k_packed);
void pack_s8_b(int64_t n, int64_t k_packed, const int8_t* b, int64_t ldb, int8_t* packed);

// Throws pagedllm::Error (invalid argument) when k_packed, k0 or k is not a multiple of 64 or k0 + k > k_packed.
void gemm_u8s8(TileBackend backend, int64_t m, int64_t n, int64_t k_packed, int64_t k0, int64_t k,
               const uint8_t* packed_a, const int8_t* packed_b, bool accumulate, int32_t* c, int64_t ldc);

// The int8 GEMM's tile of the quantized products (quant/int8_gemm.h, Int8GemmKernels::tile) on AMX, scaled per group
// of 32 k: for r < num_rows ≤ 16 and col < num_cols ≤ 32, with G = r · ld_groups + g,
//   c[r · ldc + col] (+)= Σ_g float(starts[G] + Σ_{i<32} x_i · u_i) · (steps[32g + col] · xd[G])
// with x the signed levels[r · ld_levels + 32g + i] and u the unsigned panel bytes (w + 128) of weight row col, the
// group terms added in order with one fused multiply-add each (tdpbsud per group and 16 × 16 block), assigning when
// !accumulate. The panel is the int8 GEMM's: (num_groups · 8) rows of 128 bytes, row 8g + q holding quad q of group g
// of weight rows 0-31, 4 bytes each. Bit for bit the portable kernel's result: the sums are exact integers and every
// float operation is the same one in the same order.
void gemm_s8u8_groups(TileBackend backend, int num_rows, const uint8_t* panel, const float* steps,
                      int64_t num_groups, const int8_t* levels, int64_t ld_levels, const float* xd,
                      const int32_t* starts, int64_t ld_groups, int num_cols, float* c, int64_t ldc, bool accumulate);

}  // namespace pagedllm::amx
