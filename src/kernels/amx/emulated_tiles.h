// A portable model of the AMX tile unit, with the same interface as x86_amx/hardware_tiles.h, so that the GEMM
// blocking in amx/tile_gemm.h runs (and is tested) on any CPU, and serves as the reference an AMX machine compares
// its hardware results with.
//
// Each thread has its own register file of 8 tiles × 16 rows × 64 bytes and its own configuration, as the
// hardware keeps them in each thread's XSAVE state: a thread that has not loaded a configuration faults.
// Every rule the hardware enforces with #GP (ldtilecfg) or #UD (tile instructions) throws pagedllm::Error here,
// naming the rule, instead of being silently accepted. Rules (Intel SDM vol. 2, LDTILECFG, TILELOADD, TDPBF16PS,
// TDPBUSD, TDPBSUD):
//   ldtilecfg: palette 0 (release) or 1; reserved bytes zero; tiles 0-7 rows ≤ 16, colsb ≤ 64, rows 0 exactly
//              when colsb 0; entries 8-15 zero. (start_row must be 0 here: it only restarts an interrupted load.)
//   any tile instruction: a palette-1 configuration loaded on this thread, the tile configured (rows > 0).
//   tdpbf16ps / tdpbusd / tdpbsud C, A, B: three distinct tiles; A.rows = C.rows (M); A.colsb / 4 = B.rows
//              (K groups); B.colsb = C.colsb (N · 4 bytes).
// Semantics (Intel intrinsics guide, _tile_dpbf16ps / _tile_dpbusd / _tile_dpbsud operation):
//   tdpbf16ps: for each row m, group k, column n: c += a.bf16[2k]·b[k].bf16[2n], then
//              c += a.bf16[2k+1]·b[k].bf16[2n+1], in fp32 with round-to-nearest-even (a bf16 product is exact in fp32, so each step rounds once);
//              input denormals are read as zero and output denormals flushed to zero.
//   tdpbusd:   c.int32[n] += Σ_{e<4} zero_extend(a.u8[4k+e]) · sign_extend(b[k].s8[4n+e]), wrapping modulo 2³².
//   tdpbsud:   the same with the signs swapped: sign_extend(a.s8[4k+e]) · zero_extend(b[k].u8[4n+e]).
//   sttilecfg stores the loaded configuration, or 64 zero bytes where none is.
//   Results write the C rows up to C.rows and zero every byte past C.colsb and every row past C.rows.
// Read at https://felixcloutier.com/x86/tdpbf16ps, https://felixcloutier.com/x86/tdpbssd:tdpbsud:tdpbusd:tdpbuud
// (the SDM's pages: #UD conditions, DAZ/FTZ, round-to-nearest-even) and Intel's compiler reference for
// _tile_dpbusd / _tile_dpbsud / _tile_dpbf16ps (the FOR m / k / n pseudo-code, write_row_and_zero, zero_upper_rows).
#pragma once

#include <cstdint>

#include "kernels/amx/tile_config.h"

namespace pagedllm::amx {

namespace emulated {
void load_config(const TileConfig& config);
void store_config(TileConfig* config);
void release();
void zero(int tile);
void load(int tile, const void* base, int64_t stride);
void store(int tile, void* base, int64_t stride);
void dot_bf16(int c, int a, int b);
void dot_u8s8(int c, int a, int b);
void dot_s8u8(int c, int a, int b);
}  // namespace emulated

struct EmulatedTiles {
  static void load_config(const TileConfig& config) { emulated::load_config(config); }
  static void store_config(TileConfig* config) { emulated::store_config(config); }
  static void release() { emulated::release(); }
  template <int T>
  static void zero() {
    emulated::zero(T);
  }
  template <int T>
  static void load(const void* base, int64_t stride) {
    emulated::load(T, base, stride);
  }
  template <int T>
  static void store(void* base, int64_t stride) {
    emulated::store(T, base, stride);
  }
  template <int C, int A, int B>
  static void dot_bf16() {
    emulated::dot_bf16(C, A, B);
  }
  template <int C, int A, int B>
  static void dot_u8s8() {
    emulated::dot_u8s8(C, A, B);
  }
  template <int C, int A, int B>
  static void dot_s8u8() {
    emulated::dot_s8u8(C, A, B);
  }
};

}  // namespace pagedllm::amx
