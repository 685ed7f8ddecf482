#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "kernels/generic/dense_kernels.h"
#include "kernels/weight_matrix.h"
#include "kernels/x86_avx2/dense_kernels.h"
#include "kernels/x86_avx512/dense_kernels.h"
#include "util/error.h"
#include "util/half.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

constexpr double kUnitRoundoff = 0x1.0p-24;

// A random (n_out, n_in) matrix in `format` and its exact fp32 values.
struct TestMatrix {
  std::vector<uint8_t> bytes;
  std::vector<float> values;
};

TestMatrix random_matrix(WeightFormat format, int64_t n_out, int64_t n_in, Rng& rng) {
  TestMatrix m;
  int64_t n = n_out * n_in;
  m.values.resize(n);
  m.bytes.resize(n * (format == WeightFormat::kF32 ? 4 : 2));
  for (int64_t i = 0; i < n; ++i) {
    float v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
    if (format == WeightFormat::kF32) {
      std::memcpy(m.bytes.data() + 4 * i, &v, 4);
    } else {
      uint16_t h = format == WeightFormat::kF16 ? f32_to_f16(v) : f32_to_bf16(v);
      std::memcpy(m.bytes.data() + 2 * i, &h, 2);
      v = format == WeightFormat::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
    m.values[i] = v;
  }
  return m;
}

std::vector<float> random_vector(int64_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  return v;
}

// Any fp32 summation order of k products is within γ_k·Σ|aᵢbᵢ| of the exact sum, γ_k = k·u/(1 − k·u)
// (Higham, Accuracy and Stability of Numerical Algorithms, §3.1); FMA only tightens it.
double dot_error_bound(int64_t k, double sum_abs) {
  double gamma = k * kUnitRoundoff / (1.0 - k * kUnitRoundoff);
  return gamma * sum_abs + 1e-30;
}

// The bf16 GEMM rounds x, and W unless it is BF16, to bf16 (≤ 2⁻⁸ of each factor): (2⁻⁷ + 2⁻¹⁶)·Σ|aᵢbᵢ| on top of
// the fp32 bound (kernels/x86_avx512_bf16/bf16_gemm.h).
double product_error_bound(bool bf16_product, int64_t k, double sum_abs) {
  return dot_error_bound(k, sum_abs) + (bf16_product ? (0x1.0p-7 + 0x1.0p-16) * sum_abs : 0.0);
}

const ComputeDType kComputeDTypes[] = {ComputeDType::kF32, ComputeDType::kBF16};

struct Shape {
  int64_t n_out;
  int64_t n_in;
};

// Awkward sizes (not multiples of 8), one wider than a dequantized tile (256 rows) and one wider than a backward
// column tile (512), so every path of DenseWeight runs.
const Shape kShapes[] = {{37, 29}, {5, 300}, {300, 67}, {262, 600}};
// Both sides of the streaming/sgemm crossovers (4 rows backward, 48 forward).
const int64_t kRowCounts[] = {1, 2, 3, 4, 5, 8, 9, 17, 33, 48, 49, 70};
const WeightFormat kFormats[] = {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16};

// Under kBF16 only F16/BF16 weights past the streaming limit take the bf16 bound; F32 weights and streamed rows keep
// the fp32 one.
TEST(DenseWeight, MatmulMatchesDoubleReferenceForEveryPath) {
  Rng rng(7);
  for (ComputeDType dtype : kComputeDTypes) {
    ScopedMatmulCompute compute(dtype);
    for (WeightFormat format : kFormats) {
      for (Shape shape : kShapes) {
        TestMatrix m = random_matrix(format, shape.n_out, shape.n_in, rng);
        auto w = make_dense_weight(format, m.bytes.data(), shape.n_out, shape.n_in);
        for (int64_t n_rows : kRowCounts) {
          std::vector<float> x = random_vector(n_rows * shape.n_in, rng);
          std::vector<float> y(n_rows * shape.n_out, std::numeric_limits<float>::quiet_NaN());
          w->matmul(x.data(), y.data(), n_rows);
          for (int64_t r = 0; r < n_rows; ++r) {
            for (int64_t o = 0; o < shape.n_out; ++o) {
              double exact = 0.0, sum_abs = 0.0;
              for (int64_t i = 0; i < shape.n_in; ++i) {
                double p = static_cast<double>(x[r * shape.n_in + i]) * m.values[o * shape.n_in + i];
                exact += p;
                sum_abs += std::abs(p);
              }
              const bool bf16 = runs_bf16(dtype) && format != WeightFormat::kF32 && n_rows > 48;
              ASSERT_NEAR(y[r * shape.n_out + o], exact, product_error_bound(bf16, shape.n_in, sum_abs))
                  << weight_format_name(format) << " " << shape.n_out << "x" << shape.n_in << " rows " << n_rows
                  << " bf16 " << bf16;
            }
          }
        }
      }
    }
  }
}

TEST(DenseWeight, BackwardInputMatchesDoubleReferenceForEveryPath) {
  Rng rng(8);
  for (ComputeDType dtype : kComputeDTypes) {
    ScopedMatmulCompute compute(dtype);
    for (WeightFormat format : kFormats) {
      for (Shape shape : kShapes) {
        TestMatrix m = random_matrix(format, shape.n_out, shape.n_in, rng);
        auto w = make_dense_weight(format, m.bytes.data(), shape.n_out, shape.n_in);
        for (int64_t n_rows : kRowCounts) {
          std::vector<float> dy = random_vector(n_rows * shape.n_out, rng);
          std::vector<float> dx(n_rows * shape.n_in, std::numeric_limits<float>::quiet_NaN());
          w->matmul_backward_input(dy.data(), dx.data(), n_rows);
          for (int64_t r = 0; r < n_rows; ++r) {
            for (int64_t i = 0; i < shape.n_in; ++i) {
              double exact = 0.0, sum_abs = 0.0;
              for (int64_t o = 0; o < shape.n_out; ++o) {
                double p = static_cast<double>(dy[r * shape.n_out + o]) * m.values[o * shape.n_in + i];
                exact += p;
                sum_abs += std::abs(p);
              }
              const bool bf16 = runs_bf16(dtype) && format != WeightFormat::kF32 && n_rows > 4;
              ASSERT_NEAR(dx[r * shape.n_in + i], exact, product_error_bound(bf16, shape.n_out, sum_abs))
                  << weight_format_name(format) << " " << shape.n_out << "x" << shape.n_in << " rows " << n_rows
                  << " bf16 " << bf16;
            }
          }
        }
      }
    }
  }
}

// Serving (matmul) follows matmul_compute() and training (matmul_exact, matmul_backward_input) follows
// training_matmul_compute(), each alone.
TEST(DenseWeight, ServingAndTrainingFollowTheirOwnComputeDType) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU (or PAGEDLLM_NO_BF16=1): both are fp32";
  Rng rng(11);
  TestMatrix m = random_matrix(WeightFormat::kBF16, 300, 67, rng);
  auto w = make_dense_weight(WeightFormat::kBF16, m.bytes.data(), 300, 67);
  const int64_t n_rows = 70;
  std::vector<float> x = random_vector(n_rows * 67, rng), dy = random_vector(n_rows * 300, rng);
  std::vector<float> y_f32(n_rows * 300), dx_f32(n_rows * 67), y(n_rows * 300), y_exact(n_rows * 300),
      dx(n_rows * 67);
  ScopedMatmulCompute restore(ComputeDType::kF32);
  w->matmul(x.data(), y_f32.data(), n_rows);
  w->matmul_backward_input(dy.data(), dx_f32.data(), n_rows);
  set_matmul_compute(ComputeDType::kBF16);
  w->matmul(x.data(), y.data(), n_rows);
  w->matmul_exact(x.data(), y_exact.data(), n_rows);
  w->matmul_backward_input(dy.data(), dx.data(), n_rows);
  EXPECT_NE(y, y_f32);
  EXPECT_EQ(y_exact, y_f32);
  EXPECT_EQ(dx, dx_f32);
  set_matmul_compute(ComputeDType::kF32);
  set_training_matmul_compute(ComputeDType::kBF16);
  w->matmul(x.data(), y.data(), n_rows);
  w->matmul_exact(x.data(), y_exact.data(), n_rows);
  w->matmul_backward_input(dy.data(), dx.data(), n_rows);
  EXPECT_EQ(y, y_f32);
  EXPECT_NE(y_exact, y_f32);
  EXPECT_NE(dx, dx_f32);
}

// fp32 checkpoints give the same bits whatever the compute dtype (the
// stories260K goldens depend on it).
TEST(DenseWeight, F32WeightsIgnoreTheBf16ComputeSetting) {
  Rng rng(9);
  TestMatrix m = random_matrix(WeightFormat::kF32, 300, 67, rng);
  auto w = make_dense_weight(WeightFormat::kF32, m.bytes.data(), 300, 67);
  const int64_t n_rows = 70;
  std::vector<float> x = random_vector(n_rows * 300, rng);
  std::vector<float> y_f32(n_rows * 300), y_bf16(n_rows * 300), dx_f32(n_rows * 67), dx_bf16(n_rows * 67);
  {
    ScopedMatmulCompute compute(ComputeDType::kF32);
    w->matmul(x.data(), y_f32.data(), n_rows);
    w->matmul_backward_input(x.data(), dx_f32.data(), n_rows);
  }
  {
    ScopedMatmulCompute compute(ComputeDType::kBF16);
    w->matmul(x.data(), y_bf16.data(), n_rows);
    w->matmul_backward_input(x.data(), dx_bf16.data(), n_rows);
  }
  EXPECT_EQ(y_f32, y_bf16);
  EXPECT_EQ(dx_f32, dx_bf16);
}

// The bf16 products really run where the CPU has them (a BF16 matrix's many-row product differs from the fp32 one),
// and nowhere else (PAGEDLLM_NO_BF16=1, or a CPU without AVX512-BF16: the same bits as fp32).
TEST(DenseWeight, Bf16ComputeRunsExactlyWhereTheCpuHasIt) {
  Rng rng(10);
  TestMatrix m = random_matrix(WeightFormat::kBF16, 300, 67, rng);
  auto w = make_dense_weight(WeightFormat::kBF16, m.bytes.data(), 300, 67);
  const int64_t n_rows = 70;
  std::vector<float> x = random_vector(n_rows * 67, rng);
  std::vector<float> y_f32(n_rows * 300), y_bf16(n_rows * 300);
  {
    ScopedMatmulCompute compute(ComputeDType::kF32);
    w->matmul(x.data(), y_f32.data(), n_rows);
  }
  ScopedMatmulCompute compute(ComputeDType::kBF16);
  w->matmul(x.data(), y_bf16.data(), n_rows);
  if (has_avx512_bf16()) {
    EXPECT_NE(y_f32, y_bf16);
  } else {
    EXPECT_EQ(y_f32, y_bf16) << "without AVX512-BF16 the setting must fall back to fp32 products";
  }
}

// y = x·Wᵀ from `kernel` against the portable kernel: both are within γ_n_in·Σ|x·w| ≤ γ_n_in·n_in of the
// exact value (|x|, |w| ≤ 1).
void expect_matmul_rows_match_generic(decltype(&generic::dense_matmul_rows) kernel, WeightFormat format,
                                      const TestMatrix& m, Shape shape, int64_t n_rows, Rng& rng) {
  std::vector<float> x = random_vector(n_rows * shape.n_in, rng);
  std::vector<float> y_fast(n_rows * shape.n_out), y_ref(n_rows * shape.n_out);
  kernel(format, m.bytes.data(), shape.n_in, 0, shape.n_out, x.data(), n_rows, y_fast.data(), shape.n_out);
  generic::dense_matmul_rows(format, m.bytes.data(), shape.n_in, 0, shape.n_out, x.data(), n_rows, y_ref.data(),
                             shape.n_out);
  double tol = 2 * dot_error_bound(shape.n_in, static_cast<double>(shape.n_in));
  for (size_t i = 0; i < y_ref.size(); ++i) {
    ASSERT_NEAR(y_fast[i], y_ref[i], tol) << weight_format_name(format) << " rows " << n_rows << " at " << i;
  }
}

TEST(DenseKernels, Avx2MatchesGenericOnAwkwardSizes) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C";
  Rng rng(9);
  for (WeightFormat format : kFormats) {
    for (Shape shape : {Shape{1, 1}, Shape{7, 15}, Shape{13, 33}, Shape{70, 129}}) {
      TestMatrix m = random_matrix(format, shape.n_out, shape.n_in, rng);
      for (int64_t n_rows = 1; n_rows <= 10; ++n_rows) {
        expect_matmul_rows_match_generic(avx2::dense_matmul_rows, format, m, shape, n_rows, rng);

        std::vector<float> dy = random_vector(n_rows * shape.n_out, rng);
        std::vector<float> dx_fast(n_rows * shape.n_in), dx_ref(n_rows * shape.n_in);
        // A range of W rows that starts off a multiple of 4, as a task of the streaming backward would.
        int64_t o0 = shape.n_out / 3, o1 = shape.n_out;
        avx2::dense_matmul_t_rows(format, m.bytes.data(), shape.n_out, shape.n_in, o0, o1, dy.data(), n_rows,
                                  dx_fast.data());
        generic::dense_matmul_t_rows(format, m.bytes.data(), shape.n_out, shape.n_in, o0, o1, dy.data(), n_rows,
                                     dx_ref.data());
        double tol_t = 2 * dot_error_bound(shape.n_out, static_cast<double>(shape.n_out));
        for (size_t i = 0; i < dx_ref.size(); ++i) ASSERT_NEAR(dx_fast[i], dx_ref[i], tol_t) << i;
      }
    }
  }
}

TEST(DenseKernels, Avx512MatchesGenericOnAwkwardSizes) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512";
  Rng rng(11);
  for (WeightFormat format : kFormats) {
    for (Shape shape : {Shape{1, 1}, Shape{7, 15}, Shape{13, 33}, Shape{70, 129}, Shape{9, 2048}}) {
      TestMatrix m = random_matrix(format, shape.n_out, shape.n_in, rng);
      for (int64_t n_rows = 1; n_rows <= 10; ++n_rows) {
        expect_matmul_rows_match_generic(avx512::dense_matmul_rows, format, m, shape, n_rows, rng);
      }
    }
  }
}

// A row's outputs must not depend on the other rows of the batch (greedy batch invariance): the same x row alone
// and at every position of a 10-row batch gives bit-identical results, over a range of W rows not starting at 0.
TEST(DenseKernels, Avx512RowResultsDoNotDependOnTheBatch) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512";
  Rng rng(12);
  for (WeightFormat format : kFormats) {
    TestMatrix m = random_matrix(format, 21, 100, rng);
    std::vector<float> batch = random_vector(10 * 100, rng);
    std::vector<float> y_batch(10 * 21, 0.0f);
    avx512::dense_matmul_rows(format, m.bytes.data(), 100, 3, 21, batch.data(), 10, y_batch.data(), 21);
    for (int r = 0; r < 10; ++r) {
      std::vector<float> y_alone(21, 0.0f);
      avx512::dense_matmul_rows(format, m.bytes.data(), 100, 3, 21, batch.data() + r * 100, 1, y_alone.data(), 21);
      EXPECT_EQ(0, std::memcmp(y_alone.data() + 3, y_batch.data() + r * 21 + 3, 18 * sizeof(float)))
          << weight_format_name(format) << " row " << r;
    }
  }
}

TEST(DenseKernels, Avx2DequantizedTileEqualsGenericBitForBit) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C";
  Rng rng(10);
  for (WeightFormat format : kFormats) {
    TestMatrix m = random_matrix(format, 23, 45, rng);
    std::vector<float> fast(11 * 30), ref(11 * 30);
    avx2::dense_to_f32(format, m.bytes.data(), 45, 5, 16, 13, 43, fast.data());
    generic::dense_to_f32(format, m.bytes.data(), 45, 5, 16, 13, 43, ref.data());
    EXPECT_EQ(0, std::memcmp(fast.data(), ref.data(), fast.size() * sizeof(float))) << weight_format_name(format);
  }
}

// Every 16-bit pattern once: row r holds patterns r·256 .. r·256+255.
void expect_dequantize_exact_for_every_pattern(WeightFormat format, float (*convert)(uint16_t)) {
  std::vector<uint16_t> patterns(65536);
  for (uint32_t i = 0; i < 65536; ++i) patterns[i] = static_cast<uint16_t>(i);
  auto w = make_dense_weight(format, patterns.data(), 256, 256);
  std::vector<float> row(256);
  for (int64_t r = 0; r < 256; ++r) {
    w->dequantize_row(r, row.data());
    for (int64_t i = 0; i < 256; ++i) {
      float expected = convert(patterns[r * 256 + i]);
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(row[i])) << std::hex << patterns[r * 256 + i];
      } else {
        uint32_t got_bits, expected_bits;
        std::memcpy(&got_bits, &row[i], 4);
        std::memcpy(&expected_bits, &expected, 4);
        ASSERT_EQ(got_bits, expected_bits) << std::hex << patterns[r * 256 + i];
      }
    }
  }
}

TEST(DenseWeight, F16DequantizeRowIsExactForEveryBitPattern) {
  expect_dequantize_exact_for_every_pattern(WeightFormat::kF16, f16_to_f32);
}

TEST(DenseWeight, Bf16DequantizeRowIsExactForEveryBitPattern) {
  expect_dequantize_exact_for_every_pattern(WeightFormat::kBF16, bf16_to_f32);
}

TEST(DenseWeight, F32DequantizeRowCopiesTheRow) {
  std::vector<float> data = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 7.0f};
  auto w = make_dense_weight(WeightFormat::kF32, data.data(), 2, 3);
  std::vector<float> row(3);
  w->dequantize_row(1, row.data());
  EXPECT_EQ(row, (std::vector<float>{0.0f, -0.0f, 7.0f}));
}

TEST(DenseWeight, ReportsFormatShapeAndBytes) {
  std::vector<uint8_t> owned(2 * 3 * 5);
  const void* data = owned.data();
  auto w = make_dense_weight(WeightFormat::kBF16, data, 3, 5, std::move(owned));
  EXPECT_EQ(w->format(), WeightFormat::kBF16);
  EXPECT_EQ(w->n_out(), 3);
  EXPECT_EQ(w->n_in(), 5);
  EXPECT_EQ(w->num_bytes(), 30u);
  EXPECT_STREQ(weight_format_name(WeightFormat::kNF4), "NF4");
}

TEST(DenseWeight, KeepsOwnedBytesAlive) {
  std::vector<uint8_t> owned(2 * sizeof(float));
  float values[2] = {4.0f, -1.0f};
  std::memcpy(owned.data(), values, sizeof(values));
  const void* data = owned.data();
  auto w = make_dense_weight(WeightFormat::kF32, data, 1, 2, std::move(owned));
  float x[2] = {0.5f, 3.0f};
  float y = 0.0f;
  w->matmul(x, &y, 1);
  EXPECT_EQ(y, -1.0f);  // 4·0.5 − 1·3
}

TEST(DenseWeight, RejectsBadArguments) {
  std::vector<float> data(6);
  auto expect_invalid = [](auto&& make) {
    try {
      make();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    }
  };
  expect_invalid([&] { make_dense_weight(WeightFormat::kNF4, data.data(), 2, 3); });
  expect_invalid([&] { make_dense_weight(WeightFormat::kF32, data.data(), 0, 3); });
  expect_invalid([&] { make_dense_weight(WeightFormat::kF32, nullptr, 2, 3); });
  expect_invalid([&] {
    std::vector<uint8_t> owned(10);  // 2×3 F16 needs 12 bytes
    const void* p = owned.data();
    make_dense_weight(WeightFormat::kF16, p, 2, 3, std::move(owned));
  });
}

}  // namespace
}  // namespace pagedllm
