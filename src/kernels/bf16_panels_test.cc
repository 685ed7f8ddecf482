// BF16 weights as panels (kernels/bf16_panels.h): the packing against the row-major values, the streaming kernels
// against a double reference (and against themselves split by rows and by row ranges), the bf16 GEMM on panels
// against the row-major bf16 GEMM's bits, and a panel DenseWeight against the row-major one on every path.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/bf16_panels.h"
#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "kernels/weight_matrix.h"
#include "kernels/x86_avx512/bf16_panel_kernels.h"
#include "kernels/x86_avx512_bf16/bf16_gemm.h"
#include "util/half.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

struct Bf16Matrix {
  int64_t n_out, n_in;
  std::vector<uint16_t> bits;  // row-major
  std::vector<float> values;   // the same, as fp32
};

Bf16Matrix random_bf16_matrix(int64_t n_out, int64_t n_in, Rng& rng) {
  Bf16Matrix m{n_out, n_in, std::vector<uint16_t>(size_t(n_out * n_in)), std::vector<float>(size_t(n_out * n_in))};
  for (size_t i = 0; i < m.bits.size(); ++i) {
    m.bits[i] = f32_to_bf16(static_cast<float>(rng.uniform() * 2.0 - 1.0));
    m.values[i] = bf16_to_f32(m.bits[i]);
  }
  return m;
}

std::vector<uint32_t> panels_of(const Bf16Matrix& m) {
  std::vector<uint32_t> panels(size_t(bf16_panel_words(m.n_out, m.n_in)), 0xDEADBEEFu);
  pack_bf16_panels(m.bits.data(), m.n_out, m.n_in, panels.data());
  return panels;
}

std::vector<float> random_vector(int64_t n, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  return v;
}

// Any fp32 summation order of k products is within γ_k·Σ|aᵢbᵢ| of the exact sum (Higham §3.1).
double dot_error_bound(int64_t k, double sum_abs) {
  const double u = 0x1.0p-24;
  return k * u / (1.0 - k * u) * sum_abs + 1e-30;
}

// Row counts on both sides of the kernels' 4-row groups; shapes with ragged panels (n_out % 32) and odd n_in.
const std::array<int64_t, 9> kRowCounts = {1, 2, 3, 4, 5, 7, 8, 9, 48};
const std::array<std::array<int64_t, 2>, 5> kShapes = {{{45, 33}, {64, 64}, {300, 67}, {37, 1}, {1, 130}}};

TEST(Bf16Panels, PackingKeepsEveryElementAndZeroPadding) {
  Rng rng(1);
  for (auto [n_out, n_in] : kShapes) {
    const Bf16Matrix m = random_bf16_matrix(n_out, n_in, rng);
    const std::vector<uint32_t> panels = panels_of(m);
    std::vector<float> all(static_cast<size_t>(n_out * n_in));
    bf16_panels_to_f32(panels.data(), n_in, 0, n_out, 0, n_in, all.data());
    EXPECT_EQ(all, m.values) << n_out << "x" << n_in;
    // A tile off both origins.
    const int64_t o0 = n_out / 3, o1 = n_out - n_out / 4, c0 = n_in / 2, c1 = n_in;
    std::vector<float> tile(size_t((o1 - o0) * (c1 - c0)));
    bf16_panels_to_f32(panels.data(), n_in, o0, o1, c0, c1, tile.data());
    for (int64_t o = o0; o < o1; ++o) {
      for (int64_t c = c0; c < c1; ++c) ASSERT_EQ(tile[(o - o0) * (c1 - c0) + c - c0], m.values[o * n_in + c]);
    }
    // Lanes past n_out and the high half past an odd n_in are zero (the GEMM multiplies them).
    const int64_t pairs = bf16_panel_pairs(n_in);
    for (int64_t panel = 0; panel < bf16_panel_count(n_out); ++panel) {
      for (int64_t q = 0; q < pairs; ++q) {
        for (int64_t lane = 0; lane < kBf16PanelColumns; ++lane) {
          const uint32_t word = panels[size_t((panel * pairs + q) * kBf16PanelColumns + lane)];
          if (panel * kBf16PanelColumns + lane >= n_out) ASSERT_EQ(word, 0u);
          if (2 * q + 1 >= n_in) ASSERT_EQ(word >> 16, 0u);
        }
      }
    }
  }
}

using PanelKernel = void (*)(const uint32_t*, int64_t, int64_t, int64_t, const float*, int64_t, float*, int64_t);

void expect_streaming_kernel_matches(PanelKernel kernel, const char* name) {
  Rng rng(2);
  for (auto [n_out, n_in] : kShapes) {
    const Bf16Matrix m = random_bf16_matrix(n_out, n_in, rng);
    const std::vector<uint32_t> panels = panels_of(m);
    for (int64_t n_rows : kRowCounts) {
      const std::vector<float> x = random_vector(n_rows * n_in, rng);
      const int64_t ldy = n_out + 3;
      std::vector<float> y(size_t(n_rows * ldy), std::numeric_limits<float>::quiet_NaN());
      kernel(panels.data(), n_in, 0, n_out, x.data(), n_rows, y.data(), ldy);
      for (int64_t r = 0; r < n_rows; ++r) {
        for (int64_t o = 0; o < n_out; ++o) {
          double exact = 0.0, sum_abs = 0.0;
          for (int64_t i = 0; i < n_in; ++i) {
            const double p = double(x[r * n_in + i]) * m.values[o * n_in + i];
            exact += p;
            sum_abs += std::abs(p);
          }
          ASSERT_NEAR(y[r * ldy + o], exact, dot_error_bound(n_in, sum_abs))
              << name << " " << n_out << "x" << n_in << " rows " << n_rows << " row " << r << " out " << o;
        }
        for (int64_t o = n_out; o < ldy; ++o) ASSERT_TRUE(std::isnan(y[r * ldy + o])) << name << ": wrote padding";
      }
      // Row ranges that cut panels give the same bits and write only their own outputs (the pool's tasks).
      std::vector<float> split(y.size(), std::numeric_limits<float>::quiet_NaN());
      const std::array<int64_t, 4> cuts = {0, std::min<int64_t>(n_out, 7), std::min<int64_t>(n_out, 40), n_out};
      for (size_t c = 0; c + 1 < cuts.size(); ++c) {
        kernel(panels.data(), n_in, cuts[c], cuts[c + 1], x.data(), n_rows, split.data(), ldy);
      }
      for (int64_t r = 0; r < n_rows; ++r) {
        for (int64_t o = 0; o < n_out; ++o) ASSERT_EQ(split[r * ldy + o], y[r * ldy + o]) << name << " cut at " << o;
      }
      // Each row alone: the same bits as inside the batch (a request's logits do not depend on its batch).
      for (int64_t r = 0; r < n_rows; ++r) {
        std::vector<float> alone(static_cast<size_t>(n_out));
        kernel(panels.data(), n_in, 0, n_out, x.data() + r * n_in, 1, alone.data(), n_out);
        for (int64_t o = 0; o < n_out; ++o) ASSERT_EQ(alone[o], y[r * ldy + o]) << name << " row " << r << " alone";
      }
    }
  }
}

TEST(Bf16Panels, PortableStreamingKernelMatchesDoubleReference) {
  expect_streaming_kernel_matches(generic::bf16_panels_matmul_rows, "generic");
}

TEST(Bf16Panels, Avx512StreamingKernelMatchesDoubleReference) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU (or PAGEDLLM_NO_AVX512=1)";
  expect_streaming_kernel_matches(avx512::bf16_panels_matmul_rows, "avx512");
}

// Strip heights 1–14 (m up to 14 is one strip; 15 → 8 + 7; 64 → 5 × 13), ragged panels, odd k, depth blocks.
const std::array<std::array<int64_t, 3>, 10> kGemmShapes = {
    {{1, 32, 1}, {13, 45, 33}, {14, 64, 64}, {15, 96, 512}, {27, 33, 513}, {64, 300, 67},
     {65, 64, 1030}, {129, 70, 100}, {3, 1, 31}, {200, 257, 260}}};

TEST(Bf16Panels, GemmGivesTheRowMajorGemmsBits) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU (or PAGEDLLM_NO_BF16=1)";
  Rng rng(3);
  for (auto [m, n, k] : kGemmShapes) {
    const Bf16Matrix w = random_bf16_matrix(n, k, rng);
    const std::vector<uint32_t> panels = panels_of(w);
    const std::vector<float> x = random_vector(m * k, rng);
    std::vector<float> row_major(size_t(m * n)), serial(size_t(m * n)), pooled(size_t(m * n));
    avx512_bf16::gemm_bf16(WeightFormat::kBF16, false, true, m, n, k, 1.0f, x.data(), k, w.bits.data(), k, 0.0f,
                           row_major.data(), n);
    avx512_bf16::gemm_bf16_panels(m, n, k, x.data(), k, panels.data(), 0.0f, serial.data(), n);
    ASSERT_TRUE(gemm_bf16_panels(m, n, k, x.data(), panels.data(), pooled.data()));
    EXPECT_EQ(serial, row_major) << m << "x" << n << "x" << k;
    EXPECT_EQ(pooled, row_major) << m << "x" << n << "x" << k << " through the pool";
  }
}

// Every row of C is summed in the same order whatever strip it shares: a request's prefill logits do not depend on
// how many rows the batch had.
TEST(Bf16Panels, GemmRowsHaveTheSameBitsWhateverTheStripHeight) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU (or PAGEDLLM_NO_BF16=1)";
  Rng rng(4);
  const int64_t n = 96, k = 600;
  const Bf16Matrix w = random_bf16_matrix(n, k, rng);
  const std::vector<uint32_t> panels = panels_of(w);
  const std::vector<float> x = random_vector(70 * k, rng);
  std::vector<float> alone(static_cast<size_t>(n));
  for (int64_t m : {1, 9, 14, 15, 64, 70}) {
    std::vector<float> c(static_cast<size_t>(m * n));
    avx512_bf16::gemm_bf16_panels(m, n, k, x.data(), k, panels.data(), 0.0f, c.data(), n);
    for (int64_t r : {int64_t{0}, m / 2, m - 1}) {
      avx512_bf16::gemm_bf16_panels(1, n, k, x.data() + r * k, k, panels.data(), 0.0f, alone.data(), n);
      for (int64_t j = 0; j < n; ++j) ASSERT_EQ(c[r * n + j], alone[j]) << "m " << m << " row " << r;
    }
  }
}

// Both forward paths, the backward product and dequantize_row of a panel matrix against the row-major BF16 matrix:
// the bf16 GEMM's bits where both take it (many rows, bf16 compute, no AMX), else both within the fp32 bound of the
// double product.
TEST(Bf16Panels, DenseWeightGivesTheRowMajorMatrixsResults) {
  Rng rng(5);
  for (ComputeDType dtype : {ComputeDType::kF32, ComputeDType::kBF16}) {
    ScopedMatmulCompute compute(dtype);
    for (auto [n_out, n_in] : {std::array<int64_t, 2>{45, 33}, {262, 600}, {300, 67}}) {
      const Bf16Matrix m = random_bf16_matrix(n_out, n_in, rng);
      const auto panels = make_bf16_panel_weight(m.bits.data(), n_out, n_in);
      const auto row_major = make_dense_weight(WeightFormat::kBF16, m.bits.data(), n_out, n_in);
      EXPECT_EQ(panels->format(), WeightFormat::kBF16);
      EXPECT_EQ(panels->n_out(), n_out);
      EXPECT_EQ(panels->n_in(), n_in);
      EXPECT_EQ(panels->num_bytes(), size_t(bf16_panel_words(n_out, n_in)) * 4);
      std::vector<float> row(static_cast<size_t>(n_in));
      for (int64_t o : {int64_t{0}, n_out / 2, n_out - 1}) {
        panels->dequantize_row(o, row.data());
        ASSERT_EQ(row, std::vector<float>(m.values.begin() + o * n_in, m.values.begin() + (o + 1) * n_in));
      }
      for (int64_t n_rows : {1, 5, 48, 49, 70}) {
        const std::vector<float> x = random_vector(n_rows * n_in, rng);
        std::vector<float> y(size_t(n_rows * n_out)), expected(size_t(n_rows * n_out));
        panels->matmul(x.data(), y.data(), n_rows);
        row_major->matmul(x.data(), expected.data(), n_rows);
        const bool gemm = runs_bf16(dtype) && n_rows > 48;
        if (gemm && !has_amx_bf16()) {
          ASSERT_EQ(y, expected) << n_out << "x" << n_in << " rows " << n_rows;
        }
        const std::vector<float> dy = random_vector(n_rows * n_out, rng);
        std::vector<float> dx(static_cast<size_t>(n_rows * n_in));
        panels->matmul_backward_input(dy.data(), dx.data(), n_rows);
        for (int64_t r = 0; r < n_rows; ++r) {
          for (int64_t o = 0; o < n_out; ++o) {
            double exact = 0.0, sum_abs = 0.0;
            for (int64_t i = 0; i < n_in; ++i) {
              const double p = double(x[r * n_in + i]) * m.values[o * n_in + i];
              exact += p, sum_abs += std::abs(p);
            }
            const double bound = dot_error_bound(n_in, sum_abs) + (gemm ? 0x1.0p-8 * sum_abs : 0.0);
            ASSERT_NEAR(y[r * n_out + o], exact, bound) << n_out << "x" << n_in << " rows " << n_rows;
          }
          for (int64_t i = 0; i < n_in; ++i) {
            double exact = 0.0, sum_abs = 0.0;
            for (int64_t o = 0; o < n_out; ++o) {
              const double p = double(dy[r * n_out + o]) * m.values[o * n_in + i];
              exact += p, sum_abs += std::abs(p);
            }
            ASSERT_NEAR(dx[r * n_in + i], exact, dot_error_bound(n_out, sum_abs)) << "backward rows " << n_rows;
          }
        }
      }
    }
  }
}

TEST(Bf16Panels, PanelsPayOffOnlyForBf16ComputeWithoutAmx) {
  {
    ScopedMatmulCompute compute(ComputeDType::kF32);
    EXPECT_FALSE(bf16_panels_pay_off());
  }
  ScopedMatmulCompute compute(ComputeDType::kBF16);
  EXPECT_EQ(bf16_panels_pay_off(), has_avx512_bf16() && !has_amx_bf16());
}

}  // namespace
}  // namespace pagedllm
