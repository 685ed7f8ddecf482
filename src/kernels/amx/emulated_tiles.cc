#include "kernels/amx/emulated_tiles.h"

#include <cstring>
#include <string>

#include "util/error.h"

namespace pagedllm::amx::emulated {
namespace {

struct RegisterFile {
  TileConfig config{};  // palette 0: nothing configured, as after tilerelease or in a new thread
  uint8_t data[kNumTiles][kMaxRows][kMaxRowBytes] = {};
};

thread_local RegisterFile registers;

[[noreturn]] void fault(const char* exception, const std::string& why) {
  throw_error(ErrorKind::kInvalidArgument, "emulated AMX {}: {}", exception, why);
}

void check_tile(const char* instruction, int tile) {
  if (registers.config.palette_id != 1) fault("#UD", fmt::format("{} without a tile configuration", instruction));
  if (tile < 0 || tile >= kNumTiles) fault("#UD", fmt::format("{} names tmm{}", instruction, tile));
  if (registers.config.rows[tile] == 0) fault("#UD", fmt::format("{} on unconfigured tmm{}", instruction, tile));
}

// The rows past `rows` and the bytes past `colsb` of every row read as zero after any write (write_row_and_zero,
// zero_upper_rows in the SDM's pseudo-code).
void zero_outside(int tile) {
  const int rows = registers.config.rows[tile], colsb = registers.config.colsb[tile];
  for (int r = 0; r < kMaxRows; ++r) {
    const int from = r < rows ? colsb : 0;
    std::memset(registers.data[tile][r] + from, 0, static_cast<size_t>(kMaxRowBytes - from));
  }
}

void check_dot_shapes(const char* instruction, int c, int a, int b) {
  check_tile(instruction, c);
  check_tile(instruction, a);
  check_tile(instruction, b);
  if (c == a || c == b || a == b) {
    fault("#UD", fmt::format("{} tmm{}, tmm{}, tmm{} repeats a register", instruction, c, a, b));
  }
  const TileConfig& cfg = registers.config;
  if (cfg.rows[a] != cfg.rows[c]) {
    fault("#UD", fmt::format("{}: A has {} rows, C {} (M differs)", instruction, cfg.rows[a], cfg.rows[c]));
  }
  if (cfg.colsb[a] / 4 != cfg.rows[b]) {
    fault("#UD", fmt::format("{}: A has {} groups of 4 bytes per row, B {} rows (K differs)", instruction,
                             cfg.colsb[a] / 4, cfg.rows[b]));
  }
  if (cfg.colsb[b] != cfg.colsb[c]) {
    fault("#UD",
          fmt::format("{}: B rows are {} bytes, C rows {} (N differs)", instruction, cfg.colsb[b], cfg.colsb[c]));
  }
}

float bf16_as_f32_daz(const uint8_t* p) {
  const uint32_t bits = static_cast<uint32_t>(p[0] | (p[1] << 8)) << 16;
  const uint32_t daz = (bits & 0x7f800000u) == 0 ? bits & 0x80000000u : bits;
  float value;
  std::memcpy(&value, &daz, 4);
  return value;
}

float flush_denormal(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7f800000u) == 0) bits &= 0x80000000u;
  std::memcpy(&value, &bits, 4);
  return value;
}

}  // namespace

void load_config(const TileConfig& config) {
  if (config.palette_id == 0) {  // ldtilecfg with palette 0 is tilerelease
    release();
    return;
  }
  if (config.palette_id != 1) fault("#GP", fmt::format("ldtilecfg palette {} (only 1 exists)", config.palette_id));
  if (config.start_row != 0) fault("#GP", fmt::format("ldtilecfg start_row {} (emulated only 0)", config.start_row));
  for (uint8_t byte : config.reserved) {
    if (byte != 0) fault("#GP", "ldtilecfg reserved bytes 2-15 not zero");
  }
  for (int t = 0; t < 16; ++t) {
    const int rows = config.rows[t], colsb = config.colsb[t];
    if (t >= kNumTiles) {
      if (rows != 0 || colsb != 0) fault("#GP", fmt::format("ldtilecfg configures tmm{} (palette 1 has 8)", t));
      continue;
    }
    if (rows > kMaxRows) fault("#GP", fmt::format("ldtilecfg tmm{} rows {} > {}", t, rows, kMaxRows));
    if (colsb > kMaxRowBytes) fault("#GP", fmt::format("ldtilecfg tmm{} colsb {} > {}", t, colsb, kMaxRowBytes));
    if ((rows == 0) != (colsb == 0)) fault("#GP", fmt::format("ldtilecfg tmm{} rows {} colsb {}", t, rows, colsb));
  }
  registers.config = config;
  std::memset(registers.data, 0, sizeof(registers.data));  // ldtilecfg zeroes every tile
}

void store_config(TileConfig* config) { *config = registers.config; }

void release() {
  registers.config = TileConfig{};
  std::memset(registers.data, 0, sizeof(registers.data));
}

void zero(int tile) {
  check_tile("tilezero", tile);
  std::memset(registers.data[tile], 0, sizeof(registers.data[tile]));
}

void load(int tile, const void* base, int64_t stride) {
  check_tile("tileloadd", tile);
  const auto* src = static_cast<const uint8_t*>(base);
  for (int r = 0; r < registers.config.rows[tile]; ++r) {
    std::memcpy(registers.data[tile][r], src + r * stride, registers.config.colsb[tile]);
  }
  zero_outside(tile);
}

void store(int tile, void* base, int64_t stride) {
  check_tile("tilestored", tile);
  auto* dst = static_cast<uint8_t*>(base);
  for (int r = 0; r < registers.config.rows[tile]; ++r) {
    std::memcpy(dst + r * stride, registers.data[tile][r], registers.config.colsb[tile]);
  }
}

void dot_bf16(int c, int a, int b) {
  check_dot_shapes("tdpbf16ps", c, a, b);
  const int num_rows = registers.config.rows[c], num_groups = registers.config.rows[b];
  const int num_cols = registers.config.colsb[c] / 4;
  for (int m = 0; m < num_rows; ++m) {
    float acc[kMaxRowBytes / 4];
    std::memcpy(acc, registers.data[c][m], sizeof(acc));
    for (int k = 0; k < num_groups; ++k) {
      const uint8_t* a_pair = registers.data[a][m] + 4 * k;
      for (int n = 0; n < num_cols; ++n) {
        const uint8_t* b_pair = registers.data[b][k] + 4 * n;
        // Each bf16 product has at most 16 significant bits, exact in fp32: the sum is the only rounding.
        acc[n] = flush_denormal(acc[n] + bf16_as_f32_daz(a_pair) * bf16_as_f32_daz(b_pair));
        acc[n] = flush_denormal(acc[n] + bf16_as_f32_daz(a_pair + 2) * bf16_as_f32_daz(b_pair + 2));
      }
    }
    std::memcpy(registers.data[c][m], acc, sizeof(acc));
  }
  zero_outside(c);
}

namespace {

// c.int32[n] += Σ_{e<4} extend(a.byte[4k+e]) · extend(b[k].byte[4n+e]) for tdpbusd (A unsigned, B signed) and
// tdpbsud (A signed, B unsigned), wrapping modulo 2³².
template <class AByte, class BByte>
void dot_int8(const char* instruction, int c, int a, int b) {
  check_dot_shapes(instruction, c, a, b);
  const int num_rows = registers.config.rows[c], num_groups = registers.config.rows[b];
  const int num_cols = registers.config.colsb[c] / 4;
  for (int m = 0; m < num_rows; ++m) {
    uint32_t acc[kMaxRowBytes / 4];  // unsigned: the hardware wraps modulo 2³², which signed overflow would not
    std::memcpy(acc, registers.data[c][m], sizeof(acc));
    for (int k = 0; k < num_groups; ++k) {
      const uint8_t* a_quad = registers.data[a][m] + 4 * k;
      for (int n = 0; n < num_cols; ++n) {
        const uint8_t* b_quad = registers.data[b][k] + 4 * n;
        for (int e = 0; e < 4; ++e) {
          acc[n] += static_cast<uint32_t>(static_cast<int32_t>(static_cast<AByte>(a_quad[e])) *
                                          static_cast<int32_t>(static_cast<BByte>(b_quad[e])));
        }
      }
    }
    std::memcpy(registers.data[c][m], acc, sizeof(acc));
  }
  zero_outside(c);
}

}  // namespace

void dot_u8s8(int c, int a, int b) { dot_int8<uint8_t, int8_t>("tdpbusd", c, a, b); }

void dot_s8u8(int c, int a, int b) { dot_int8<int8_t, uint8_t>("tdpbsud", c, a, b); }

}  // namespace pagedllm::amx::emulated
