// The portable tile model (amx/emulated_tiles.h) faults where the hardware would (#GP on a bad configuration,
// #UD on a tile instruction the configuration does not allow) and computes what the SDM's pseudo-code says: the
// GEMM tests lean on it, so its rules and arithmetic are pinned here on hand-worked examples.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kernels/amx/emulated_tiles.h"
#include "util/error.h"
#include "util/half.h"

namespace pagedllm {
namespace {

using amx::EmulatedTiles;
using amx::TileConfig;

// The message of the Error fn throws, or "" when it throws none.
std::string fault_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TileConfig config_with(int tile, int rows, int colsb) {
  TileConfig config = amx::full_tile_config();
  config.rows[tile] = static_cast<uint8_t>(rows);
  config.colsb[tile] = static_cast<uint16_t>(colsb);
  return config;
}

TEST(AmxEmulator, LoadConfigRejectsWhatTheHardwareRejects) {
  TileConfig palette2 = amx::full_tile_config();
  palette2.palette_id = 2;
  EXPECT_EQ(fault_of([&] { EmulatedTiles::load_config(palette2); }),
            "emulated AMX #GP: ldtilecfg palette 2 (only 1 exists)");
  EXPECT_EQ(fault_of([] { EmulatedTiles::load_config(config_with(3, 17, 64)); }),
            "emulated AMX #GP: ldtilecfg tmm3 rows 17 > 16");
  EXPECT_EQ(fault_of([] { EmulatedTiles::load_config(config_with(5, 16, 65)); }),
            "emulated AMX #GP: ldtilecfg tmm5 colsb 65 > 64");
  EXPECT_EQ(fault_of([] { EmulatedTiles::load_config(config_with(0, 0, 4)); }),
            "emulated AMX #GP: ldtilecfg tmm0 rows 0 colsb 4");
  EXPECT_EQ(fault_of([] { EmulatedTiles::load_config(config_with(8, 16, 64)); }),
            "emulated AMX #GP: ldtilecfg configures tmm8 (palette 1 has 8)");
  TileConfig reserved = amx::full_tile_config();
  reserved.reserved[3] = 1;
  EXPECT_EQ(fault_of([&] { EmulatedTiles::load_config(reserved); }),
            "emulated AMX #GP: ldtilecfg reserved bytes 2-15 not zero");
  EXPECT_EQ(fault_of([] { EmulatedTiles::load_config(amx::full_tile_config()); }), "");
}

// Configuration is per thread, as in the hardware's XSAVE state: a new thread has none until it loads one.
TEST(AmxEmulator, EachThreadNeedsItsOwnConfiguration) {
  EmulatedTiles::load_config(amx::full_tile_config());
  EXPECT_EQ(fault_of([] { EmulatedTiles::zero<0>(); }), "");
  std::string other_thread;
  std::thread([&] { other_thread = fault_of([] { EmulatedTiles::zero<0>(); }); }).join();
  EXPECT_EQ(other_thread, "emulated AMX #UD: tilezero without a tile configuration");
  TileConfig stored;
  const TileConfig full = amx::full_tile_config();
  EmulatedTiles::store_config(&stored);
  EXPECT_EQ(std::memcmp(&stored, &full, sizeof(TileConfig)), 0);
  EmulatedTiles::release();
  EmulatedTiles::store_config(&stored);
  EXPECT_EQ(stored.palette_id, 0);
  EXPECT_EQ(fault_of([] { EmulatedTiles::load<4>(nullptr, 64); }),
            "emulated AMX #UD: tileloadd without a tile configuration");
}

TEST(AmxEmulator, DotProductsCheckShapesAndRegisters) {
  EmulatedTiles::load_config(config_with(4, 8, 64));  // A with 8 rows, C with 16
  EXPECT_EQ(fault_of([] { EmulatedTiles::dot_bf16<0, 4, 6>(); }),
            "emulated AMX #UD: tdpbf16ps: A has 8 rows, C 16 (M differs)");
  EmulatedTiles::load_config(config_with(6, 8, 64));  // B with 8 rows for A's 16 groups
  EXPECT_EQ(fault_of([] { EmulatedTiles::dot_u8s8<0, 4, 6>(); }),
            "emulated AMX #UD: tdpbusd: A has 16 groups of 4 bytes per row, B 8 rows (K differs)");
  EXPECT_EQ(fault_of([] { EmulatedTiles::dot_s8u8<0, 4, 6>(); }),
            "emulated AMX #UD: tdpbsud: A has 16 groups of 4 bytes per row, B 8 rows (K differs)");
  EmulatedTiles::load_config(config_with(6, 16, 32));  // B with 8 columns, C with 16
  EXPECT_EQ(fault_of([] { EmulatedTiles::dot_bf16<0, 4, 6>(); }),
            "emulated AMX #UD: tdpbf16ps: B rows are 32 bytes, C rows 64 (N differs)");
  EmulatedTiles::load_config(config_with(7, 0, 0));
  EXPECT_EQ(fault_of([] { EmulatedTiles::dot_bf16<0, 4, 7>(); }), "emulated AMX #UD: tdpbf16ps on unconfigured tmm7");
  EmulatedTiles::load_config(amx::full_tile_config());
  EXPECT_EQ(fault_of([] { EmulatedTiles::dot_u8s8<4, 4, 6>(); }),
            "emulated AMX #UD: tdpbusd tmm4, tmm4, tmm6 repeats a register");
  EmulatedTiles::release();
}

// A 2-row, 8-byte tile loads and stores only its rows × colsb bytes.
TEST(AmxEmulator, LoadAndStoreMoveOnlyTheConfiguredBytes) {
  EmulatedTiles::load_config(config_with(1, 2, 8));
  std::vector<uint8_t> source(64 * 3);
  for (size_t i = 0; i < source.size(); ++i) source[i] = static_cast<uint8_t>(i + 1);
  std::vector<uint8_t> dest(64 * 3, 0xAA);
  EmulatedTiles::load<1>(source.data(), 64);
  EmulatedTiles::store<1>(dest.data(), 64);
  for (size_t i = 0; i < dest.size(); ++i) {
    const bool inside = i / 64 < 2 && i % 64 < 8;
    ASSERT_EQ(dest[i], inside ? source[i] : 0xAA) << i;
  }
  EmulatedTiles::release();
}

// One row, one group: C = 1 + a0·b0 + a1·b1 for each column, fp32 rounding after each product is added, input
// denormals read as zero.
TEST(AmxEmulator, Bf16DotFollowsThePseudoCode) {
  TileConfig config{};
  config.palette_id = 1;
  for (int t : {0, 4, 6}) {
    config.rows[t] = 1;
    config.colsb[t] = 4;
  }
  EmulatedTiles::load_config(config);
  const auto bf16_pair = [](float even, float odd) {
    return static_cast<uint32_t>(f32_to_bf16(even)) | (static_cast<uint32_t>(f32_to_bf16(odd)) << 16);
  };
  const float one = 1.0f;
  // 2²⁴ + 1 + 1: each addition rounds (ties to even) and loses the 1, where one rounding of the sum would keep 2.
  const uint32_t a = bf16_pair(1.0f, 1.0f), b = bf16_pair(1.0f, 1.0f);
  const float big = 16777216.0f;
  EmulatedTiles::load<0>(&big, 4);
  EmulatedTiles::load<4>(&a, 4);
  EmulatedTiles::load<6>(&b, 4);
  EmulatedTiles::dot_bf16<0, 4, 6>();
  float c = 0.0f;
  EmulatedTiles::store<0>(&c, 4);
  EXPECT_EQ(c, 16777216.0f);
  const uint32_t denormal_a = 0x00010000u | f32_to_bf16(3.0f);  // odd half: the smallest bf16 denormal
  const uint32_t b2 = bf16_pair(0.5f, 0x1.0p120f);
  EmulatedTiles::load<0>(&one, 4);
  EmulatedTiles::load<4>(&denormal_a, 4);
  EmulatedTiles::load<6>(&b2, 4);
  EmulatedTiles::dot_bf16<0, 4, 6>();
  EmulatedTiles::store<0>(&c, 4);
  EXPECT_EQ(c, 2.5f);  // 1 + 3 · 0.5 + 0 · 2¹²⁰, where the denormal 2⁻¹³³ would add 2⁻¹³
  EmulatedTiles::release();
}

TEST(AmxEmulator, Int8DotIsUnsignedTimesSignedAndWraps) {
  TileConfig config{};
  config.palette_id = 1;
  for (int t : {0, 4, 6}) {
    config.rows[t] = 1;
    config.colsb[t] = 4;
  }
  EmulatedTiles::load_config(config);
  const uint8_t a[4] = {255, 1, 2, 3};
  const int8_t b[4] = {-128, 127, -1, 5};
  const int32_t start = 2147483647 - 10;
  EmulatedTiles::load<0>(&start, 4);
  EmulatedTiles::load<4>(a, 4);
  EmulatedTiles::load<6>(b, 4);
  EmulatedTiles::dot_u8s8<0, 4, 6>();
  int32_t c = 0;
  EmulatedTiles::store<0>(&c, 4);
  EXPECT_EQ(c, start + (-32640 + 127 - 2 + 15));
  const int32_t near_max = 2147483647;
  const uint8_t a_up[4] = {1, 0, 0, 0};
  const int8_t b_up[4] = {1, 0, 0, 0};
  EmulatedTiles::load<0>(&near_max, 4);
  EmulatedTiles::load<4>(a_up, 4);
  EmulatedTiles::load<6>(b_up, 4);
  EmulatedTiles::dot_u8s8<0, 4, 6>();
  EmulatedTiles::store<0>(&c, 4);
  EXPECT_EQ(c, -2147483647 - 1);  // wrapped modulo 2³²
  EmulatedTiles::release();
}

// tdpbsud: A's bytes signed, B's unsigned (the opposite of tdpbusd on the same bytes), wrapping like it.
TEST(AmxEmulator, Int8DotIsSignedTimesUnsignedAndWraps) {
  TileConfig config{};
  config.palette_id = 1;
  for (int t : {0, 4, 6}) {
    config.rows[t] = 1;
    config.colsb[t] = 4;
  }
  EmulatedTiles::load_config(config);
  const uint8_t a[4] = {0x80, 0xFF, 2, 3};  // -128, -1, 2, 3
  const uint8_t b[4] = {0xFF, 0x80, 0xFF, 5};  // 255, 128, 255, 5
  const int32_t start = 7;
  EmulatedTiles::load<0>(&start, 4);
  EmulatedTiles::load<4>(a, 4);
  EmulatedTiles::load<6>(b, 4);
  EmulatedTiles::dot_s8u8<0, 4, 6>();
  int32_t c = 0;
  EmulatedTiles::store<0>(&c, 4);
  EXPECT_EQ(c, 7 + (-128 * 255 - 128 + 510 + 15));
  const int32_t near_min = -2147483647 - 1;
  const uint8_t a_down[4] = {0xFF, 0, 0, 0};  // -1
  const uint8_t b_down[4] = {1, 0, 0, 0};
  EmulatedTiles::load<0>(&near_min, 4);
  EmulatedTiles::load<4>(a_down, 4);
  EmulatedTiles::load<6>(b_down, 4);
  EmulatedTiles::dot_s8u8<0, 4, 6>();
  EmulatedTiles::store<0>(&c, 4);
  EXPECT_EQ(c, 2147483647);  // wrapped modulo 2³²
  EmulatedTiles::release();
}

// Full 16 × 16 × 64 tiles of random bytes against the pseudo-code written out in scalar int64: every (m, n) sums its
// 64 products of sign-extended A and zero-extended B onto C.
TEST(AmxEmulator, Int8SignedUnsignedDotMatchesScalarReference) {
  EmulatedTiles::load_config(amx::full_tile_config());
  uint32_t state = 12345;
  const auto next_byte = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<uint8_t>(state >> 24);
  };
  std::vector<uint8_t> a(16 * 64), b(16 * 64);
  std::vector<int32_t> c0(16 * 16), c(16 * 16);
  for (auto& v : a) v = next_byte();
  for (auto& v : b) v = next_byte();
  for (auto& v : c0) v = static_cast<int32_t>(next_byte()) * 1000 - 128000;
  EmulatedTiles::load<2>(c0.data(), 64);
  EmulatedTiles::load<5>(a.data(), 64);
  EmulatedTiles::load<7>(b.data(), 64);
  EmulatedTiles::dot_s8u8<2, 5, 7>();
  EmulatedTiles::store<2>(c.data(), 64);
  for (int m = 0; m < 16; ++m) {
    for (int n = 0; n < 16; ++n) {
      int64_t expected = c0[m * 16 + n];
      for (int k = 0; k < 16; ++k) {
        for (int e = 0; e < 4; ++e) {
          expected += int64_t{static_cast<int8_t>(a[m * 64 + 4 * k + e])} * b[k * 64 + 4 * n + e];
        }
      }
      ASSERT_EQ(c[m * 16 + n], expected) << m << "," << n;
    }
  }
  EmulatedTiles::release();
}

}  // namespace
}  // namespace pagedllm
