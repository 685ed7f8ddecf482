// The tile backend of amx/tile_gemm.h on the AMX instructions: thin wrappers over GCC's intrinsics, with the same
// interface as amx/emulated_tiles.h (whose comment states the rules and semantics both follow). Include only from
// translation units compiled with -mamx-tile -mamx-bf16 -mamx-int8, and run only where has_amx_bf16() /
// has_amx_int8() hold.
//
// GCC's tile intrinsics are macros that paste the register number into the instruction text (#dst), so a template
// parameter cannot be passed through: each wrapper selects the literal register with if constexpr.
// They also declare no memory operands beyond the address (tileloadd takes "r" inputs; ldtilecfg claims 8 bytes),
// so a compiler barrier before each load makes the packing stores visible to them, and one after each store makes
// the compiler read back what the tile wrote.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/amx/tile_config.h"

namespace pagedllm::amx {

#define PAGEDLLM_TILE_SELECT(T, MACRO, ...)      \
  if constexpr ((T) == 0) MACRO(0, __VA_ARGS__); \
  else if constexpr ((T) == 1) MACRO(1, __VA_ARGS__); \
  else if constexpr ((T) == 2) MACRO(2, __VA_ARGS__); \
  else if constexpr ((T) == 3) MACRO(3, __VA_ARGS__); \
  else if constexpr ((T) == 4) MACRO(4, __VA_ARGS__); \
  else if constexpr ((T) == 5) MACRO(5, __VA_ARGS__); \
  else if constexpr ((T) == 6) MACRO(6, __VA_ARGS__); \
  else if constexpr ((T) == 7) MACRO(7, __VA_ARGS__); \
  else static_assert((T) >= 0 && (T) < 8, "tmm0-7 only")

#define PAGEDLLM_TILE_ZERO(t, unused) _tile_zero(t)
#define PAGEDLLM_TILE_LOAD(t, base, stride) _tile_loadd(t, base, stride)
#define PAGEDLLM_TILE_STORE(t, base, stride) _tile_stored(t, base, stride)

struct HardwareTiles {
  static void load_config(const TileConfig& config) {
    asm volatile("" ::: "memory");
    _tile_loadconfig(&config);
  }
  static void store_config(TileConfig* config) {
    _tile_storeconfig(config);
    asm volatile("" ::: "memory");
  }
  static void release() { _tile_release(); }
  template <int T>
  static void zero() {
    PAGEDLLM_TILE_SELECT(T, PAGEDLLM_TILE_ZERO, 0);
  }
  template <int T>
  static void load(const void* base, int64_t stride) {
    asm volatile("" ::: "memory");
    PAGEDLLM_TILE_SELECT(T, PAGEDLLM_TILE_LOAD, base, stride);
  }
  template <int T>
  static void store(void* base, int64_t stride) {
    PAGEDLLM_TILE_SELECT(T, PAGEDLLM_TILE_STORE, base, stride);
    asm volatile("" ::: "memory");  // tilestored declares no memory output: later reads must see what it wrote
  }
  // The four products a 2 × 2 register block issues (amx/tile_gemm.h): C tmm0-3, A tmm4-5, B tmm6-7.
  template <int C, int A, int B>
  static void dot_bf16() {
    if constexpr (C == 0 && A == 4 && B == 6) _tile_dpbf16ps(0, 4, 6);
    else if constexpr (C == 1 && A == 4 && B == 7) _tile_dpbf16ps(1, 4, 7);
    else if constexpr (C == 2 && A == 5 && B == 6) _tile_dpbf16ps(2, 5, 6);
    else if constexpr (C == 3 && A == 5 && B == 7) _tile_dpbf16ps(3, 5, 7);
    else static_assert(C < 0, "add the register triple here");
  }
  template <int C, int A, int B>
  static void dot_u8s8() {
    if constexpr (C == 0 && A == 4 && B == 6) _tile_dpbusd(0, 4, 6);
    else if constexpr (C == 1 && A == 4 && B == 7) _tile_dpbusd(1, 4, 7);
    else if constexpr (C == 2 && A == 5 && B == 6) _tile_dpbusd(2, 5, 6);
    else if constexpr (C == 3 && A == 5 && B == 7) _tile_dpbusd(3, 5, 7);
    else static_assert(C < 0, "add the register triple here");
  }
  // A signed, B unsigned: the int8 GEMM's activation levels times its panels of w + 128 (amx/tile_gemm.h).
  template <int C, int A, int B>
  static void dot_s8u8() {
    if constexpr (C == 0 && A == 4 && B == 6) _tile_dpbsud(0, 4, 6);
    else if constexpr (C == 1 && A == 4 && B == 7) _tile_dpbsud(1, 4, 7);
    else static_assert(C < 0, "add the register triple here");
  }
};

#undef PAGEDLLM_TILE_ZERO
#undef PAGEDLLM_TILE_LOAD
#undef PAGEDLLM_TILE_STORE
#undef PAGEDLLM_TILE_SELECT

}  // namespace pagedllm::amx
