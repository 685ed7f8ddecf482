#include "quant/quantized_weight.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

// C = A · op(tile) + beta · C for one dequantized fp32 tile: in bf16 (rounded while packing, fp32 accumulation) when
// `bf16`, else in fp32.
void tile_product(bool bf16, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* tile, int64_t ld_tile, float beta, float* c, int64_t ldc) {
  if (bf16 && gemm_bf16_serial(WeightFormat::kF32, trans_b, m, n, k, a, lda, tile, ld_tile, beta, c, ldc)) return;
  gemm_f32_serial(trans_b, m, n, k, a, lda, tile, ld_tile, beta, c, ldc);
}

}  // namespace

void QuantizedWeight::matmul(const float* x, float* y, int64_t n_rows) const {
  if (n_rows <= 0) return;
  if (n_rows <= max_decode_rows()) {
    matmul_decode(x, y, n_rows, has_avx2_fma_f16c(), /*allow_q8_activations=*/true);
  } else if (takes_int8_gemm()) {
    matmul_int8(x, y, n_rows, /*allow_simd=*/true);
  } else {
    matmul_gemm(x, y, n_rows, runs_bf16(matmul_compute()));
  }
}

void QuantizedWeight::matmul_int8(const float* x, float* y, int64_t n_rows, bool allow_simd) const {
  const auto weights = int8_gemm_weights();
  if (!weights) {
    throw_error(ErrorKind::kUnsupported, "int8 GEMM of a ({}, {}) {} matrix: its shape takes no 8-bit activations",
                n_out(), n_in(), weight_format_name(format()));
  }
  int8_gemm(*weights, int8_gemm_kernels(allow_simd), x, y, n_rows);
}

void QuantizedWeight::matmul_exact(const float* x, float* y, int64_t n_rows) const {
  if (n_rows <= 0) return;
  if (n_rows <= kMaxDecodeRows) {
    matmul_decode(x, y, n_rows, has_avx2_fma_f16c(), /*allow_q8_activations=*/false);
  } else {
    matmul_gemm(x, y, n_rows, runs_bf16(training_matmul_compute()));
  }
}

void QuantizedWeight::matmul_decode(const float* x, float* y, int64_t n_rows, bool allow_avx2,
                                    bool allow_q8_activations) const {
  if (n_rows <= 0) return;
  const RowRangeProduct product = decode_product(x, y, n_rows, allow_avx2, allow_q8_activations);
  parallel_for(n_out(), product.min_task_rows, product.run);
}

std::optional<RowRangeProduct> QuantizedWeight::row_range_product(const float* x, float* y, int64_t n_rows) const {
  if (n_rows <= 0 || n_rows > max_decode_rows()) return std::nullopt;
  return decode_product(x, y, n_rows, has_avx2_fma_f16c(), /*allow_q8_activations=*/true);
}

void QuantizedWeight::dequantize_row(int64_t row, float* out) const { dequantize_tile(row, 1, 0, n_in(), out, n_in()); }

int64_t QuantizedWeight::tile_cols() const {
  const int64_t align = column_alignment();
  return std::max<int64_t>(align, kTileElements / tile_rows() / align * align);
}

int64_t QuantizedWeight::tile_rows() const {
  // Whole rounds of tiles over the threads (1,536 rows, 2 threads: 2 tiles of 768; 5,632 rows: 6 of 939).
  const int64_t threads = num_threads();
  const int64_t min_tiles = (n_out() + kMaxTileRows - 1) / kMaxTileRows;
  const int64_t tiles = (min_tiles + threads - 1) / threads * threads;
  return std::max(kMinTileRows, (n_out() + tiles - 1) / tiles);
}

int64_t QuantizedWeight::backward_tile_cols() const {
  const int64_t align = column_alignment();
  const int64_t per_thread = n_in() / num_threads() / align * align;
  return std::max(align, std::clamp<int64_t>(per_thread, 256, 1024) / align * align);
}

void QuantizedWeight::matmul_gemm(const float* x, float* y, int64_t n_rows, bool bf16) const {
  const int64_t width = tile_cols();
  const int64_t tile_height = tile_rows();
  const int64_t num_row_tiles = (n_out() + tile_height - 1) / tile_height;
  // Each task owns the output columns y[:, j0 : j1]: it walks n_in in tiles, accumulating with beta = 1.
  parallel_for(num_row_tiles, 1, [&](int64_t begin, int64_t end) {
    // Uninitialized: dequantize_tile writes every element a product reads (zeroing 1 MiB per task was a memset
    // in every training product).
    const std::unique_ptr<float[]> tile(new float[static_cast<size_t>(tile_height * width)]);
    for (int64_t t = begin; t < end; ++t) {
      const int64_t j0 = t * tile_height;
      const int64_t rows = std::min(tile_height, n_out() - j0);
      for (int64_t c0 = 0; c0 < n_in(); c0 += width) {
        const int64_t cols = std::min(width, n_in() - c0);
        dequantize_tile(j0, rows, c0, cols, tile.get(), cols);
        tile_product(bf16, /*trans_b=*/true, n_rows, rows, cols, x + c0, n_in(), tile.get(), cols,
                     c0 == 0 ? 0.0f : 1.0f, y + j0, n_out());
      }
    }
  });
}

void QuantizedWeight::matmul_backward_input(const float* dy, float* dx, int64_t n_rows) const {
  if (n_rows <= 0) return;
  const int64_t width = backward_tile_cols();
  const int64_t num_col_tiles = (n_in() + width - 1) / width;
  constexpr int64_t kRowsPerStep = 256;
  const bool bf16 = runs_bf16(training_matmul_compute());
  // Each task owns dx[:, c0 : c0 + cols] and sums dy[:, j0 : j1] · W[j0 : j1, c0 : c0 + cols] over row steps.
  parallel_for(num_col_tiles, 1, [&](int64_t begin, int64_t end) {
    const std::unique_ptr<float[]> tile(new float[static_cast<size_t>(kRowsPerStep * width)]);
    for (int64_t t = begin; t < end; ++t) {
      const int64_t c0 = t * width;
      const int64_t cols = std::min(width, n_in() - c0);
      for (int64_t j0 = 0; j0 < n_out(); j0 += kRowsPerStep) {
        const int64_t rows = std::min(kRowsPerStep, n_out() - j0);
        dequantize_tile(j0, rows, c0, cols, tile.get(), cols);
        tile_product(bf16, /*trans_b=*/false, n_rows, cols, rows, dy + j0, n_out(), tile.get(), cols,
                     j0 == 0 ? 0.0f : 1.0f, dx + c0, n_in());
      }
    }
  });
}

}  // namespace pagedllm
