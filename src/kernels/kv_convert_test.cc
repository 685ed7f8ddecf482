#include "kernels/kv_convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/fp8.h"
#include "kernels/x86_avx2/kv_convert.h"
#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

TEST(KVCacheDType, ParsesEveryNameAndResolvesAuto) {
  EXPECT_EQ(resolve_kv_cache_dtype("auto", true), KVCacheDType::kFloat32);
  EXPECT_EQ(resolve_kv_cache_dtype("auto", false), KVCacheDType::kBFloat16);
  EXPECT_EQ(resolve_kv_cache_dtype("float32", false), KVCacheDType::kFloat32);
  EXPECT_EQ(resolve_kv_cache_dtype("bfloat16", true), KVCacheDType::kBFloat16);
  EXPECT_EQ(resolve_kv_cache_dtype("fp8", true), KVCacheDType::kFp8E4M3);
  EXPECT_EQ(resolve_kv_cache_dtype("fp8_e4m3", true), KVCacheDType::kFp8E4M3);
  EXPECT_EQ(resolve_kv_cache_dtype("fp8_e5m2", true), KVCacheDType::kFp8E5M2);
  EXPECT_STREQ(kv_cache_dtype_name(KVCacheDType::kFp8E5M2), "fp8_e5m2");
  EXPECT_EQ(kv_cache_dtype_size(KVCacheDType::kFloat32), 4u);
  EXPECT_EQ(kv_cache_dtype_size(KVCacheDType::kBFloat16), 2u);
  EXPECT_EQ(kv_cache_dtype_size(KVCacheDType::kFp8E4M3), 1u);
  EXPECT_EQ(kv_cache_dtype_size(KVCacheDType::kFp8E5M2), 1u);
}

TEST(KVCacheDType, RejectsUnknownNamesListingTheAllowedOnes) {
  for (const char* bad : {"fp16", "float16", "int8", "", "FP8"}) {
    try {
      check_kv_cache_dtype_name(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("auto, float32, bfloat16, fp8, fp8_e4m3, fp8_e5m2"), std::string::npos)
          << e.what();
    }
  }
}

TEST(KVConvert, Fp8DividesByTheScaleOnWriteAndMultipliesOnRead) {
  const float x[4] = {1.0f, -3.0f, 1000.0f, 0.1f};
  uint8_t codes[4];
  f32_to_kv(x, codes, 4, KVCacheDType::kFp8E4M3, 2.0f);
  EXPECT_EQ(codes[0], f32_to_fp8_e4m3(0.5f));
  EXPECT_EQ(codes[1], f32_to_fp8_e4m3(-1.5f));
  EXPECT_EQ(codes[2], 0x7E);  // 500 saturates at 448
  float back[4];
  kv_to_f32(codes, back, 4, KVCacheDType::kFp8E4M3, 2.0f);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -3.0f);
  EXPECT_EQ(back[2], 896.0f);
  EXPECT_EQ(back[3], 2.0f * fp8_e4m3_to_f32(f32_to_fp8_e4m3(0.05f)));
}

TEST(KVConvert, Bf16RoundsToNearestEvenAndFp32IsACopy) {
  // 1 + 2⁻⁸ lies halfway between bf16 1 and 1 + 2⁻⁷: the tie goes to the even mantissa, 1.
  const float x[3] = {1.0f + 0x1.0p-8f, 1.0f + 0x1.0p-8f + 0x1.0p-20f, std::numeric_limits<float>::infinity()};
  uint16_t stored[3];
  f32_to_kv(x, stored, 3, KVCacheDType::kBFloat16, 7.0f);  // the scale is ignored
  float back[3];
  kv_to_f32(stored, back, 3, KVCacheDType::kBFloat16, 7.0f);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], 1.0f + 0x1.0p-7f);
  EXPECT_EQ(back[2], std::numeric_limits<float>::infinity());
  float copy[3];
  f32_to_kv(x, copy, 3, KVCacheDType::kFloat32, 7.0f);
  EXPECT_EQ(std::memcmp(copy, x, sizeof(x)), 0);
}

// The AVX2 widening is bit for bit the portable one: every fp8 code (subnormals, ±0, E5M2's infinities, NaN) at
// several scales, random bf16 patterns, lengths off the 8-wide loop.
TEST(KVConvert, Avx2WideningIsBitIdenticalToPortable) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  std::vector<uint8_t> codes(256 + 5);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i * 37 % 256);
  for (int c = 0; c < 256; ++c) codes[c] = static_cast<uint8_t>(c);
  // Equal bits, or NaN in both (the payload of a NaN is not part of the contract).
  auto same_bits = [](const std::vector<float>& a, const std::vector<float>& b) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::isnan(a[i]) && std::isnan(b[i])) continue;
      if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
    }
    return a.size() == b.size();
  };
  for (KVCacheDType dtype : {KVCacheDType::kFp8E4M3, KVCacheDType::kFp8E5M2}) {
    for (float scale : {1.0f, 0.25f, 3.0f}) {
      for (int64_t n : {int64_t{261}, int64_t{7}, int64_t{8}}) {
        std::vector<float> fast(n), portable(n);
        avx2::kv_to_f32(codes.data(), fast.data(), n, dtype, scale);
        kv_to_f32(codes.data(), portable.data(), n, dtype, scale);
        EXPECT_TRUE(same_bits(fast, portable)) << kv_cache_dtype_name(dtype) << " scale " << scale << " n " << n;
      }
    }
  }
  Rng rng(5);
  std::vector<uint16_t> halves(1003);
  for (uint16_t& h : halves) h = static_cast<uint16_t>(rng.uniform() * 65536);
  std::vector<float> fast(halves.size()), portable(halves.size());
  avx2::kv_to_f32(halves.data(), fast.data(), static_cast<int64_t>(halves.size()), KVCacheDType::kBFloat16, 1.0f);
  kv_to_f32(halves.data(), portable.data(), static_cast<int64_t>(halves.size()), KVCacheDType::kBFloat16, 1.0f);
  EXPECT_TRUE(same_bits(fast, portable));
}

}  // namespace
}  // namespace pagedllm
