#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>

#include "kernels/amx/amx_gemm.h"
#include "kernels/bf16_panels.h"
#include "kernels/cpu_features.h"
#include "kernels/x86_avx512/sgemm.h"
#include "kernels/x86_avx512_bf16/bf16_gemm.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

void pin_openblas_to_one_thread() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

// Products of at least this many rows take the AMX tiles where they work (a tile holds 16 rows of A; fewer rows
// would multiply padding). Not tuned: no AMX machine has run it yet.
constexpr int64_t kAmxMinRows = 16;

// N is split in multiples of this so every slice keeps the GEMM kernels' register tiles full (and starts on a BF16
// panel); M likewise (the fp32 kernel's register tile is 14 rows × 32 columns; the bf16 kernel's strips are at most
// 14 rows, as even as a slice's rows allow).
constexpr int64_t kColumnAlign = 32;
constexpr int64_t kRowAlign = 14;
// How many slices an extent is worth: one per two register tiles, at most one per thread.
constexpr int64_t kColumnsPerSlice = 64;
constexpr int64_t kRowsPerSlice = 28;

// Calls fn(i0, i1, j0, j1) for one block of C per thread (on the pool; one call when C is a single block). Slices
// of the n columns when there are enough for every thread: each slice packs only its own part of B, and fewer,
// larger products beat many small ones. Otherwise slices of the m rows: a product with a rank-64 LoRA adapter has
// 64 output columns, one column slice, and would leave every other thread idle.
// The slices are whole register tiles, as equal in number as they can be: rounding each slice up to 64 columns or
// 28 rows had left 2 threads 320 + 256 columns of a 576-wide product, 128 + 64 of a 192-wide one and 280 + 232 rows
// of 512, so one thread idled for up to a third of the product.
template <class Fn>
void for_output_blocks(int64_t m, int64_t n, Fn&& fn) {
  const int64_t threads = num_threads();
  const int64_t column_slices = std::min(threads, (n + kColumnsPerSlice - 1) / kColumnsPerSlice);
  const int64_t row_slices = std::min(threads, (m + kRowsPerSlice - 1) / kRowsPerSlice);
  if (column_slices <= 1 && row_slices <= 1) {
    if (m > 0 && n > 0) fn(int64_t{0}, m, int64_t{0}, n);
    return;
  }
  const bool by_columns = column_slices >= row_slices;
  const int64_t extent = by_columns ? n : m, align = by_columns ? kColumnAlign : kRowAlign;
  const int64_t num_slices = by_columns ? column_slices : row_slices;
  const int64_t units = (extent + align - 1) / align;
  parallel_for(num_slices, 1, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      const int64_t e0 = std::min(extent, units * s / num_slices * align);
      const int64_t e1 = std::min(extent, units * (s + 1) / num_slices * align);
      if (e0 >= e1) continue;
      if (by_columns) {
        fn(int64_t{0}, m, e0, e1);
      } else {
        fn(e0, e1, int64_t{0}, n);
      }
    }
  });
}

}  // namespace

void gemm_f32_general_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                             int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    }
    return;
  }
  if (has_avx512()) {
    avx512::sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  pin_openblas_to_one_thread();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

void gemm_f32_general(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                      int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m * n * k < (int64_t{1} << 20)) {
    gemm_f32_general_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  for_output_blocks(m, n, [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    const float* a_slice = trans_a ? a + i0 : a + i0 * lda;
    const float* b_slice = trans_b ? b + j0 * ldb : b + j0;
    gemm_f32_general_serial(trans_a, trans_b, i1 - i0, j1 - j0, k, alpha, a_slice, lda, b_slice, ldb, beta,
                            c + i0 * ldc + j0, ldc);
  });
}

void gemm_f32_serial(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                     int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_f32_general_serial(false, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

void gemm_f32(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_f32_general(false, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

bool gemm_f32_half_weight(bool bf16, int64_t m, int64_t n_out, int64_t n_in, const float* x, const uint16_t* w,
                          float* y) {
  if (!has_avx512()) return false;
  if (m <= 0 || n_out <= 0) return true;
  for_output_blocks(m, n_out, [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    avx512::sgemm_half_b(bf16, true, i1 - i0, j1 - j0, n_in, x + i0 * n_in, n_in, w + j0 * n_in, n_in, 0.0f,
                         y + i0 * n_out + j0, n_out);
  });
  return true;
}

bool gemm_bf16_general_serial(WeightFormat b_format, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                              float alpha, const float* a, int64_t lda, const void* b, int64_t ldb, float beta,
                              float* c, int64_t ldc) {
  if (!has_avx512_bf16()) return false;
  if (m <= 0 || n <= 0) return true;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    }
    return true;
  }
  // The tiles read A row-major and have no alpha: the other forms (training's adapter and attention products) stay
  // on AVX512-BF16.
  if (m >= kAmxMinRows && !trans_a && alpha == 1.0f && has_amx_bf16()) {
    amx::gemm_bf16(amx::TileBackend::kHardware, b_format, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return true;
  }
  avx512_bf16::gemm_bf16(b_format, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  return true;
}

bool gemm_bf16_general(WeightFormat b_format, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c,
                       int64_t ldc) {
  if (!has_avx512_bf16()) return false;
  if (m * n * k < (int64_t{1} << 20)) {
    return gemm_bf16_general_serial(b_format, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  const int64_t element_bytes = b_format == WeightFormat::kF32 ? 4 : 2;
  for_output_blocks(m, n, [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    const float* a_slice = trans_a ? a + i0 : a + i0 * lda;
    const auto* b_slice = static_cast<const uint8_t*>(b) + (trans_b ? j0 * ldb : j0) * element_bytes;
    gemm_bf16_general_serial(b_format, trans_a, trans_b, i1 - i0, j1 - j0, k, alpha, a_slice, lda, b_slice, ldb,
                             beta, c + i0 * ldc + j0, ldc);
  });
  return true;
}

bool gemm_bf16_panels(int64_t m, int64_t n_out, int64_t n_in, const float* x, const uint32_t* panels, float* y) {
  if (!has_avx512_bf16()) return false;
  if (m <= 0 || n_out <= 0) return true;
  static_assert(kColumnAlign % kBf16PanelColumns == 0, "column slices must start on a panel");
  const int64_t panel_words = bf16_panel_pairs(n_in) * kBf16PanelColumns;
  const auto run = [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    avx512_bf16::gemm_bf16_panels(i1 - i0, j1 - j0, n_in, x + i0 * n_in, n_in,
                                  panels + j0 / kBf16PanelColumns * panel_words, 0.0f, y + i0 * n_out + j0, n_out);
  };
  if (m * n_out * n_in < (int64_t{1} << 20)) {
    run(0, m, 0, n_out);
  } else {
    for_output_blocks(m, n_out, run);
  }
  return true;
}

bool gemm_bf16_serial(WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                      int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  return gemm_bf16_general_serial(b_format, false, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

bool gemm_bf16(WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
               const void* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  return gemm_bf16_general(b_format, false, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace pagedllm
