// The vector packings of the AMX bf16 GEMM (x86_avx512/ integer rounding, x86_avx512_bf16/ vcvtneps2bf16) against the
// scalar reference (amx/bf16_packing.h), byte for byte over whole packed buffers: every B format (F32, F16, BF16),
// both trans_b, ragged m, k and n around the 16-row panels and 32-k tiles, offsets into the source, and inputs full of
// the values a conversion gets wrong first: NaN (quiet, signalling, negative), ±Inf, ±0, fp32 denormals (which
// vcvtneps2bf16 alone would flush, and the largest of which rounds up to the smallest normal bf16), ties to even and
// values that round to infinity. The two buffers start with different garbage, so a byte the vector code leaves
// unwritten fails too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "kernels/amx/bf16_packing.h"
#include "kernels/cpu_features.h"
#include "kernels/x86_avx512/amx_bf16_packing.h"
#include "kernels/x86_avx512_bf16/amx_bf16_packing.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

constexpr uint32_t kSpecialF32[] = {
    0x00000000, 0x80000000,              // ±0
    0x00000001, 0x80000001, 0x00008000,  // denormals rounding to ±0 (the last a tie, to even)
    0x00018000, 0x007fffff, 0x807fffff,  // denormals rounding up (a tie to even; up into the smallest normal)
    0x00800000, 0x0080ffff,              // the smallest normal, and just below a carry
    0x3f808000, 0x3f818000, 0x3f80ffff,  // ties to even (down, up) and an ordinary round-up
    0x7f7fffff, 0xff7fffff,              // ±the largest float: rounds to ±Inf
    0x7f800000, 0xff800000,              // ±Inf
    0x7fc00000, 0x7f800001, 0x7fbfffff,  // quiet NaN, signalling NaNs (the quiet bit gets set)
    0xffffffff, 0xff812345,              // negative NaNs
};

float from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

// F32: random magnitudes over 60 binades with a special value every third element; F16 and BF16: random bit patterns
// (every class of value: NaN, Inf, denormal).
std::vector<uint8_t> random_source(Rng& rng, WeightFormat format, int64_t count) {
  if (format == WeightFormat::kF32) {
    std::vector<float> values(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const double magnitude = std::ldexp(rng.uniform() + 0.5, static_cast<int>(rng.uniform() * 60.0) - 30);
      values[i] = i % 3 == 0 ? from_bits(kSpecialF32[(i / 3) % std::size(kSpecialF32)])
                             : static_cast<float>(rng.uniform() < 0.5 ? -magnitude : magnitude);
    }
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
  }
  std::vector<uint16_t> halves(static_cast<size_t>(count));
  for (auto& h : halves) h = static_cast<uint16_t>(rng.uniform() * 65536.0);
  std::vector<uint8_t> bytes(halves.size() * 2);
  std::memcpy(bytes.data(), halves.data(), bytes.size());
  return bytes;
}

std::vector<uint16_t> garbage(int64_t count, uint16_t value) { return std::vector<uint16_t>(count, value); }

void expect_same_bytes(const std::vector<uint16_t>& got, const std::vector<uint16_t>& expected,
                       const std::string& what) {
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], expected[i]) << what << " at value " << i << " (tile " << i / 512 << ", row " << i % 512 / 32
                                   << ", column " << i % 32 << ")";
  }
}

void expect_packers_match_scalar(const amx::Bf16Packers& packers) {
  const amx::Bf16Packers& scalar = amx::scalar_bf16_packers();
  Rng rng(41);
  // A: rows × (k block at p0) of a wider matrix; an extra step past kc in one case.
  for (int64_t m : {1, 15, 16, 17, 33}) {
    for (int64_t kc : {1, 16, 31, 32, 33, 70, 512}) {
      for (int64_t extra_steps : {0, 1}) {
        const int64_t p0 = 3, lda = p0 + kc + 5, num_steps = (kc + 31) / 32 + extra_steps;
        const auto bytes = random_source(rng, WeightFormat::kF32, m * lda);
        const auto* a = reinterpret_cast<const float*>(bytes.data());
        const int64_t size = (m + 15) / 16 * num_steps * 512;
        auto got = garbage(size, 0xABAB), expected = garbage(size, 0xCDCD);
        packers.pack_a(a, lda, m, p0, kc, num_steps, got.data());
        scalar.pack_a(a, lda, m, p0, kc, num_steps, expected.data());
        expect_same_bytes(got, expected, "A m=" + std::to_string(m) + " kc=" + std::to_string(kc));
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
  // B: op(B)[p0 : p0 + kc, j0 : j0 + nc] of each format and orientation.
  for (WeightFormat format : {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16}) {
    for (bool trans_b : {false, true}) {
      for (int64_t nc : {1, 15, 16, 17, 40}) {
        for (int64_t kc : {1, 2, 31, 32, 33, 70, 300}) {
          const int64_t p0 = 5, j0 = 2, num_steps = (kc + 31) / 32;
          // (n, k) rows of ldb when trans_b, else (k, n) rows; a margin on each side of the block.
          const int64_t rows = trans_b ? j0 + nc + 1 : p0 + kc + 1, ldb = trans_b ? p0 + kc + 3 : j0 + nc + 3;
          const auto bytes = random_source(rng, format, rows * ldb);
          const int64_t size = (nc + 15) / 16 * num_steps * 512;
          auto got = garbage(size, 0xABAB), expected = garbage(size, 0xCDCD);
          packers.pack_b(format, trans_b, bytes.data(), ldb, p0, kc, j0, nc, num_steps, got.data());
          scalar.pack_b(format, trans_b, bytes.data(), ldb, p0, kc, j0, nc, num_steps, expected.data());
          expect_same_bytes(got, expected,
                            std::string("B ") + weight_format_name(format) + " trans_b=" + std::to_string(trans_b) +
                                " nc=" + std::to_string(nc) + " kc=" + std::to_string(kc));
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(AmxBf16Packing, Avx512MatchesScalarBitForBit) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  expect_packers_match_scalar(avx512::amx_bf16_packers());
}

TEST(AmxBf16Packing, Avx512Bf16MatchesScalarBitForBit) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  expect_packers_match_scalar(avx512_bf16::amx_bf16_packers());
}

TEST(AmxBf16Packing, DispatchPicksTheFastestThisCpuRuns) {
  const amx::Bf16Packers& chosen = amx::bf16_packers();
  const amx::Bf16Packers& expected = has_avx512_bf16() ? avx512_bf16::amx_bf16_packers()
                                     : has_avx512()    ? avx512::amx_bf16_packers()
                                                       : amx::scalar_bf16_packers();
  EXPECT_EQ(&chosen, &expected);
}

}  // namespace
}  // namespace pagedllm
