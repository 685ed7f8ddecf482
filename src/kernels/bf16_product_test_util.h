// Test helper for the bf16 GEMMs (x86_avx512_bf16/, the AMX tiles): C = A · op(B) + beta · C on random padded
// operands, checked against two references computed in double:
//   exact     the fp32 operands' product: |C − exact| ≤ (2⁻⁷ + 2⁻¹⁶) · Σ|a·b| (each factor rounded to bf16 once, at
//             most 2⁻⁸ of itself), 2⁻⁸ · Σ|a·b| for BF16 B (only A is rounded);
//   emulated  the same product of the operands rounded to bf16 (util/half.h, nearest-even): only the fp32
//             accumulation differs, |C − emulated| ≤ 1e-5 · Σ|a·b|, which pins the rounding mode and the pairing.
// Elements of C's padding must keep their values.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/weight_matrix.h"
#include "util/half.h"
#include "util/rng.h"

namespace pagedllm::testing {

struct Bf16Operand {
  std::vector<float> values;  // what the storage holds, as fp32 (exact)
  std::vector<uint8_t> storage;
};

// n random values in [-1, 1) stored as `format` (F32, F16 or BF16).
inline Bf16Operand random_bf16_operand(Rng& rng, int64_t n, WeightFormat format) {
  Bf16Operand out;
  out.values.resize(static_cast<size_t>(n));
  out.storage.resize(static_cast<size_t>(n) * (format == WeightFormat::kF32 ? 4 : 2));
  for (int64_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
    if (format == WeightFormat::kF32) {
      out.values[i] = v;
      reinterpret_cast<float*>(out.storage.data())[i] = v;
    } else {
      const uint16_t h = format == WeightFormat::kBF16 ? f32_to_bf16(v) : f32_to_f16(v);
      out.values[i] = format == WeightFormat::kBF16 ? bf16_to_f32(h) : f16_to_f32(h);
      reinterpret_cast<uint16_t*>(out.storage.data())[i] = h;
    }
  }
  return out;
}

inline double rounded_to_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// The product under test: C (ldc) = A (lda) · op(B) (ldb, B's storage) + beta · C, for the shape and layout given to
// expect_bf16_product_matches; false if it refused to run.
using Bf16Product = std::function<bool(const float* a, int64_t lda, const void* b, int64_t ldb, float* c,
                                       int64_t ldc)>;

inline void expect_bf16_product_matches(const Bf16Product& product, WeightFormat format, bool trans_b, int64_t m,
                                        int64_t n, int64_t k, float beta) {
  Rng rng(static_cast<uint64_t>(m * 7919 + n * 31 + k * 3 + (trans_b ? 1 : 0)));
  const int64_t lda = k + 3, ldb = (trans_b ? k : n) + 5, ldc = n + 2;
  std::vector<float> a(static_cast<size_t>(m * lda));
  for (float& v : a) v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  const Bf16Operand b = random_bf16_operand(rng, (trans_b ? n : k) * ldb, format);
  std::vector<float> c(static_cast<size_t>(m * ldc));
  for (float& v : c) v = static_cast<float>(rng.uniform());
  const std::vector<float> c0 = c;
  const double rounding = format == WeightFormat::kBF16 ? 0x1.0p-8 : 0x1.0p-7 + 0x1.0p-16;
  ASSERT_TRUE(product(a.data(), lda, b.storage.data(), ldb, c.data(), ldc));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = c[i * ldc + j];
      if (j >= n) {
        ASSERT_EQ(got, c0[i * ldc + j]) << "wrote outside C at " << i << "," << j;
        continue;
      }
      double exact = 0.0, emulated = 0.0, magnitude = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const float bv = trans_b ? b.values[j * ldb + p] : b.values[p * ldb + j];
        const float av = a[i * lda + p];
        exact += static_cast<double>(av) * bv;
        emulated += rounded_to_bf16(av) * rounded_to_bf16(bv);
        magnitude += std::fabs(static_cast<double>(av) * bv);
      }
      const double old = beta == 0.0f ? 0.0 : static_cast<double>(beta) * c0[i * ldc + j];
      const auto where = [&] {
        return std::string(weight_format_name(format)) + " " + std::to_string(m) + "x" + std::to_string(n) + "x" +
               std::to_string(k) + " trans_b=" + std::to_string(trans_b) + " beta=" + std::to_string(beta) + " at " +
               std::to_string(i) + "," + std::to_string(j);
      };
      ASSERT_NEAR(got, exact + old, rounding * magnitude + 1e-6 * (magnitude + std::fabs(old)) + 1e-6) << where();
      ASSERT_NEAR(got, emulated + old, 1e-5 * (magnitude + std::fabs(old)) + 1e-6) << where();
    }
  }
}

}  // namespace pagedllm::testing
