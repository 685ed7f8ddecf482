// The AMX GEMMs' blocking, packing and loops, written once over a tile backend: x86_amx/hardware_tiles.h (the
// instructions) or amx/emulated_tiles.h (the portable model). Included by the emulated backend's translation unit
// (amx/amx_gemm.cc) and the hardware's (x86_amx/hardware_gemm.cc, hardware_group_gemm.cc); internal to each (unnamed
// namespace), since the hardware ones are compiled with AMX flags and the linker must never pick their copy of a
// shared inline function for another. The bf16 operands are packed by amx/bf16_packing.h's functions.
//
// Packed operands are panels of 16 (rows of A, columns of op(B)), each panel a run of 1 KiB tiles, one per step
// of depth (32 k for bf16, 64 k for int8), loaded with a 64-byte stride:
//   A tile:  16 rows × 64 bytes: row r holds A[r, step's k] (32 bf16 or 64 u8), zero past m and past k.
//   B tile:  16 rows × 16 columns × 4 bytes, the VNNI layout: row q, column j holds op(B)[2q, j], op(B)[2q + 1, j]
//            (bf16) or op(B)[4q + e, j] for e < 4 (s8) of the step's k, zero past n and past k.
// A register block is 2 × 2 C tiles (32 rows × 32 columns): tmm0-3 accumulate C, tmm4-5 hold A, tmm6-7 hold B;
// blocks on the edges use 1 row or column of tiles, and rows or columns past m or n are computed on zeros and
// never written.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/amx/bf16_packing.h"
#include "kernels/amx/tile_config.h"

namespace pagedllm::amx {
namespace {

constexpr int64_t kPanel = 16;       // rows of A or columns of B per panel
constexpr int64_t kBlock = 32;       // rows and columns of a 2 × 2 register block
constexpr int64_t kBf16Step = 32;    // k per bf16 tile
constexpr int64_t kInt8Step = 64;    // k per int8 tile
// bf16 cache blocks: a depth block of B (kDepth × kWidth bf16 = 256 KiB) stays in L2 while every A panel pair runs
// over it, as in x86_avx512_bf16/bf16_gemm.cc.
constexpr int64_t kDepth = 512;
constexpr int64_t kWidth = 256;

// Loads the configuration unless this thread has it loaded already. sttilecfg reads what is loaded now, so a
// pool thread, a foreign thread calling the _serial form, or a thread whose tiles someone released or reconfigured
// since (tilerelease, another library's ldtilecfg) all end up with the right one; it costs far less than a block.
// A thread alternating between the full and the per-group configurations reloads on each switch.
template <class Tiles>
void ensure_tile_config(const TileConfig& wanted) {
  TileConfig current;
  Tiles::store_config(&current);
  if (std::memcmp(&current, &wanted, sizeof(TileConfig)) != 0) Tiles::load_config(wanted);
}

constexpr TileConfig kFullTileConfig = full_tile_config();
constexpr TileConfig kInt8GroupTileConfig = int8_group_tile_config();

// out (32 × 32 four-byte values, 128-byte rows) = the block's product over num_steps tiles of depth: A panels at
// a and a + a_panel_bytes, B panels at b and b + b_panel_bytes. Only the tiles of kRowTiles × kColTiles are written.
template <class Tiles, bool kInt8, int kRowTiles, int kColTiles>
void tile_block(const uint8_t* a, int64_t a_panel_bytes, const uint8_t* b, int64_t b_panel_bytes, int64_t num_steps,
                uint8_t* out) {
  constexpr int64_t kOutStride = kBlock * 4;
  constexpr bool kTwoRows = kRowTiles == 2, kTwoCols = kColTiles == 2;
  Tiles::template zero<0>();
  if constexpr (kTwoCols) Tiles::template zero<1>();
  if constexpr (kTwoRows) Tiles::template zero<2>();
  if constexpr (kTwoRows && kTwoCols) Tiles::template zero<3>();
  for (int64_t step = 0; step < num_steps; ++step) {
    const int64_t offset = step * kTileBytes;
    Tiles::template load<4>(a + offset, kMaxRowBytes);
    if constexpr (kTwoRows) Tiles::template load<5>(a + a_panel_bytes + offset, kMaxRowBytes);
    Tiles::template load<6>(b + offset, kMaxRowBytes);
    if constexpr (kTwoCols) Tiles::template load<7>(b + b_panel_bytes + offset, kMaxRowBytes);
    if constexpr (kInt8) {
      Tiles::template dot_u8s8<0, 4, 6>();
      if constexpr (kTwoCols) Tiles::template dot_u8s8<1, 4, 7>();
      if constexpr (kTwoRows) Tiles::template dot_u8s8<2, 5, 6>();
      if constexpr (kTwoRows && kTwoCols) Tiles::template dot_u8s8<3, 5, 7>();
    } else {
      Tiles::template dot_bf16<0, 4, 6>();
      if constexpr (kTwoCols) Tiles::template dot_bf16<1, 4, 7>();
      if constexpr (kTwoRows) Tiles::template dot_bf16<2, 5, 6>();
      if constexpr (kTwoRows && kTwoCols) Tiles::template dot_bf16<3, 5, 7>();
    }
  }
  Tiles::template store<0>(out, kOutStride);
  if constexpr (kTwoCols) Tiles::template store<1>(out + kPanel * 4, kOutStride);
  if constexpr (kTwoRows) Tiles::template store<2>(out + kPanel * kOutStride, kOutStride);
  if constexpr (kTwoRows && kTwoCols) Tiles::template store<3>(out + kPanel * kOutStride + kPanel * 4, kOutStride);
}

template <class Tiles, bool kInt8>
void run_tile_block(int64_t row_tiles, int64_t col_tiles, const uint8_t* a, int64_t a_panel_bytes, const uint8_t* b,
                    int64_t b_panel_bytes, int64_t num_steps, uint8_t* out) {
  if (row_tiles == 2 && col_tiles == 2) {
    tile_block<Tiles, kInt8, 2, 2>(a, a_panel_bytes, b, b_panel_bytes, num_steps, out);
  } else if (row_tiles == 2) {
    tile_block<Tiles, kInt8, 2, 1>(a, a_panel_bytes, b, b_panel_bytes, num_steps, out);
  } else if (col_tiles == 2) {
    tile_block<Tiles, kInt8, 1, 2>(a, a_panel_bytes, b, b_panel_bytes, num_steps, out);
  } else {
    tile_block<Tiles, kInt8, 1, 1>(a, a_panel_bytes, b, b_panel_bytes, num_steps, out);
  }
}

// ---- bf16: C[m, n] = A[m, k] · op(B) + beta · C ----

// The operands packed by `packers` (amx/bf16_packing.h: the scalar reference or a vector twin with the same bytes).
template <class Tiles>
void gemm_bf16_tiles(const Bf16Packers& packers, WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k,
                     const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  ensure_tile_config<Tiles>(kFullTileConfig);
  thread_local std::vector<uint16_t> a_buffer, b_buffer;
  const int64_t num_row_panels = (m + kPanel - 1) / kPanel;
  alignas(64) float out[kBlock * kBlock];
  for (int64_t p0 = 0; p0 < k; p0 += kDepth) {
    const int64_t kc = std::min(kDepth, k - p0);
    const int64_t num_steps = (kc + kBf16Step - 1) / kBf16Step;
    const int64_t panel_bytes = num_steps * kTileBytes;
    a_buffer.resize(static_cast<size_t>(num_row_panels * panel_bytes / 2));
    packers.pack_a(a, lda, m, p0, kc, num_steps, a_buffer.data());
    // The first depth block applies beta (0 overwrites, so C may hold garbage); later ones accumulate.
    const float scale_c = p0 == 0 ? beta : 1.0f;
    for (int64_t j0 = 0; j0 < n; j0 += kWidth) {
      const int64_t nc = std::min(kWidth, n - j0);
      const int64_t num_col_panels = (nc + kPanel - 1) / kPanel;
      b_buffer.resize(static_cast<size_t>(num_col_panels * panel_bytes / 2));
      packers.pack_b(b_format, trans_b, b, ldb, p0, kc, j0, nc, num_steps, b_buffer.data());
      const auto* packed_a = reinterpret_cast<const uint8_t*>(a_buffer.data());
      const auto* packed_b = reinterpret_cast<const uint8_t*>(b_buffer.data());
      for (int64_t rp = 0; rp < num_row_panels; rp += 2) {
        for (int64_t cp = 0; cp < num_col_panels; cp += 2) {
          const int64_t row_tiles = std::min<int64_t>(2, num_row_panels - rp);
          const int64_t col_tiles = std::min<int64_t>(2, num_col_panels - cp);
          run_tile_block<Tiles, false>(row_tiles, col_tiles, packed_a + rp * panel_bytes, panel_bytes,
                                       packed_b + cp * panel_bytes, panel_bytes, num_steps,
                                       reinterpret_cast<uint8_t*>(out));
          const int64_t i0 = rp * kPanel, jb = j0 + cp * kPanel;
          const int64_t rows = std::min(kBlock, m - i0), cols = std::min(kBlock, n - jb);
          for (int64_t i = 0; i < rows; ++i) {
            float* row = c + (i0 + i) * ldc + jb;
            for (int64_t j = 0; j < cols; ++j) {
              row[j] = scale_c == 0.0f ? out[i * kBlock + j] : scale_c * row[j] + out[i * kBlock + j];
            }
          }
        }
      }
    }
  }
}

// ---- int8: C_i32[m, n] (+)= A_u8 · B_s8ᵀ over packed operands (amx/amx_gemm.h) ----

template <class Tiles>
void gemm_u8s8_tiles(int64_t m, int64_t n, int64_t k_packed, int64_t k0, int64_t k, const uint8_t* packed_a,
                     const int8_t* packed_b, bool accumulate, int32_t* c, int64_t ldc) {
  ensure_tile_config<Tiles>(kFullTileConfig);
  const int64_t panel_bytes = k_packed / kInt8Step * kTileBytes;
  const int64_t first = k0 / kInt8Step * kTileBytes, num_steps = k / kInt8Step;
  const int64_t num_row_panels = (m + kPanel - 1) / kPanel, num_col_panels = (n + kPanel - 1) / kPanel;
  alignas(64) uint32_t out[kBlock * kBlock];
  const auto* b_bytes = reinterpret_cast<const uint8_t*>(packed_b);
  for (int64_t rp = 0; rp < num_row_panels; rp += 2) {
    for (int64_t cp = 0; cp < num_col_panels; cp += 2) {
      const int64_t row_tiles = std::min<int64_t>(2, num_row_panels - rp);
      const int64_t col_tiles = std::min<int64_t>(2, num_col_panels - cp);
      run_tile_block<Tiles, true>(row_tiles, col_tiles, packed_a + rp * panel_bytes + first, panel_bytes,
                                  b_bytes + cp * panel_bytes + first, panel_bytes, num_steps,
                                  reinterpret_cast<uint8_t*>(out));
      const int64_t i0 = rp * kPanel, j0 = cp * kPanel;
      const int64_t rows = std::min(kBlock, m - i0), cols = std::min(kBlock, n - j0);
      for (int64_t i = 0; i < rows; ++i) {
        int32_t* row = c + (i0 + i) * ldc + j0;
        for (int64_t j = 0; j < cols; ++j) {
          // Wrapping like the tile accumulators (unsigned arithmetic: signed overflow would be undefined).
          const uint32_t old = accumulate ? static_cast<uint32_t>(row[j]) : 0u;
          row[j] = static_cast<int32_t>(old + out[i * kBlock + j]);
        }
      }
    }
  }
}

// ---- int8 per group of 32 k: the quantized products' tile (amx/amx_gemm.h, gemm_s8u8_groups) ----

constexpr int64_t kGroupDepth = 32;                    // k per group: one scale per input row and per weight row
constexpr int64_t kGroupPanelCols = 2 * kPanel;        // weight rows of a panel: two B tiles
constexpr int64_t kGroupQuadBytes = 4 * kGroupPanelCols;  // one quad of k of every weight row of a panel

// Per group g: tdpbsud of the 16 input rows' levels (A, signed) and the panel's two halves (B, unsigned w + 128)
// gives the exact Σ x · (w + 128) of each (input row, weight row); stored to memory, started at -128 · Σ x and
// scaled with one fused multiply-add per group, in the portable kernel's order, so the bits are its bits.
template <class Tiles>
void gemm_s8u8_groups_tiles(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups,
                            const int8_t* levels, int64_t ld_levels, const float* xd, const int32_t* starts,
                            int64_t ld_groups, int num_cols, float* c, int64_t ldc, bool accumulate) {
  ensure_tile_config<Tiles>(kInt8GroupTileConfig);
  // A tile load reads 16 rows: fewer input rows are copied, a group at a time, above zero rows.
  alignas(64) int8_t padded[kPanel * kGroupDepth] = {};
  const bool pad = num_rows < kPanel;
  alignas(64) int32_t sums[kPanel * kGroupPanelCols];
  alignas(64) float acc[kPanel][kGroupPanelCols] = {};
  for (int64_t g = 0; g < num_groups; ++g) {
    const int8_t* a = levels + kGroupDepth * g;
    int64_t lda = ld_levels;
    if (pad) {
      for (int r = 0; r < num_rows; ++r) std::memcpy(padded + r * kGroupDepth, a + r * ld_levels, kGroupDepth);
      a = padded;
      lda = kGroupDepth;
    }
    const uint8_t* b = panel + g * (kGroupDepth / 4) * kGroupQuadBytes;
    Tiles::template zero<0>();
    Tiles::template zero<1>();
    Tiles::template load<4>(a, lda);
    Tiles::template load<6>(b, kGroupQuadBytes);
    Tiles::template load<7>(b + kPanel * 4, kGroupQuadBytes);
    Tiles::template dot_s8u8<0, 4, 6>();
    Tiles::template dot_s8u8<1, 4, 7>();
    Tiles::template store<0>(sums, kGroupPanelCols * 4);
    Tiles::template store<1>(sums + kPanel, kGroupPanelCols * 4);
    const float* step = steps + g * kGroupPanelCols;
    for (int r = 0; r < num_rows; ++r) {
      const float d = xd[r * ld_groups + g];
      const int32_t start = starts[r * ld_groups + g];
      for (int64_t col = 0; col < kGroupPanelCols; ++col) {
        acc[r][col] = std::fma(static_cast<float>(sums[r * kGroupPanelCols + col] + start), step[col] * d, acc[r][col]);
      }
    }
  }
  for (int r = 0; r < num_rows; ++r) {
    float* out = c + r * ldc;
    for (int col = 0; col < num_cols; ++col) out[col] = accumulate ? acc[r][col] + out[col] : acc[r][col];
  }
}

}  // namespace
}  // namespace pagedllm::amx
