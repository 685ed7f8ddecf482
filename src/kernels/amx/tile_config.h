// The 64-byte operand of ldtilecfg, and the two tile shapes the AMX GEMMs here use.
//
// Layout (Intel SDM vol. 2, LDTILECFG, "Memory Area Layout"; the same struct as Linux's
// tools/testing/selftests/x86/amx.c): byte 0 palette_id, byte 1 start_row, bytes 2-15 reserved (zero),
// bytes 16-47 colsb[16] (bytes per row of tile i, little-endian uint16), bytes 48-63 rows[16].
// Palette 1 has 8 tiles (tmm0-7) of at most 16 rows × 64 bytes; entries 8-15 must be zero. Palette 0 is the
// init state (no tiles). A tile with rows 0 must have colsb 0 and is unusable.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pagedllm::amx {

constexpr int kNumTiles = 8;
constexpr int kMaxRows = 16;
constexpr int kMaxRowBytes = 64;
constexpr int64_t kTileBytes = kMaxRows * kMaxRowBytes;  // one packed 16 × 64-byte tile

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
static_assert(sizeof(TileConfig) == 64);
static_assert(offsetof(TileConfig, colsb) == 16 && offsetof(TileConfig, rows) == 48);

// Palette 1 with all 8 tiles 16 rows × 64 bytes: C tiles 16 × 16 fp32/int32, A tiles 16 rows × 64 bytes of k,
// B tiles 16 k-groups × 16 columns × 4 bytes (the VNNI layout). Both the bf16 and the int8 products use it, so a
// thread switching between them never reloads its configuration.
constexpr TileConfig full_tile_config() {
  TileConfig config{};
  config.palette_id = 1;
  for (int t = 0; t < kNumTiles; ++t) {
    config.colsb[t] = kMaxRowBytes;
    config.rows[t] = kMaxRows;
  }
  return config;
}

// Palette 1 for the int8 products scaled per group of 32 k (amx_gemm.h, gemm_s8u8_groups): C tmm0-1 16 × 16 int32,
// A tmm4 16 rows × 32 bytes (one group of signed levels per row), B tmm6-7 8 k-quads × 16 columns × 4 bytes, so one
// tdpbsud sums exactly one group. The other tiles stay unconfigured (rows and colsb 0).
constexpr TileConfig int8_group_tile_config() {
  TileConfig config{};
  config.palette_id = 1;
  config.colsb[0] = config.colsb[1] = kMaxRowBytes;
  config.rows[0] = config.rows[1] = kMaxRows;
  config.colsb[4] = 32;
  config.rows[4] = kMaxRows;
  config.colsb[6] = config.colsb[7] = kMaxRowBytes;
  config.rows[6] = config.rows[7] = 8;
  return config;
}

}  // namespace pagedllm::amx
