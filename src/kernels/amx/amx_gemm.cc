#include "kernels/amx/amx_gemm.h"

#include <algorithm>

#include "kernels/amx/bf16_packing.h"
#include "kernels/amx/emulated_tiles.h"
#include "kernels/amx/tile_gemm.h"
#include "kernels/cpu_features.h"
#include "kernels/x86_amx/hardware_gemm.h"
#include "util/error.h"

namespace pagedllm::amx {

void gemm_bf16(TileBackend backend, WeightFormat b_format, bool trans_b, int64_t m, int64_t n, int64_t k,
               const float* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    }
    return;
  }
  if (backend == TileBackend::kHardware) {
    PAGEDLLM_CHECK_MSG(has_amx_bf16(), "AMX-BF16 GEMM on a CPU without it ({})", amx_status());
    hardware::gemm_bf16(bf16_packers(), b_format, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  gemm_bf16_tiles<EmulatedTiles>(bf16_packers(), b_format, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

int64_t packed_u8_a_bytes(int64_t m, int64_t k_packed) {
  return (m + kPanel - 1) / kPanel * (k_packed / kInt8Step) * kTileBytes;
}

int64_t packed_s8_b_bytes(int64_t n, int64_t k_packed) { return packed_u8_a_bytes(n, k_packed); }

namespace {

void check_depth(const char* what, int64_t value) {
  if (value < 0 || value % kInt8Step != 0) {
    throw_error(ErrorKind::kInvalidArgument, "AMX int8 GEMM: {} = {} is not a multiple of {}", what, value, kInt8Step);
  }
}

}  // namespace

void pack_u8_a(int64_t m, int64_t k_packed, const uint8_t* a, int64_t lda, uint8_t* packed) {
  check_depth("k_packed", k_packed);
  const int64_t num_steps = k_packed / kInt8Step;
  std::fill(packed, packed + packed_u8_a_bytes(m, k_packed), uint8_t{0});
  for (int64_t i = 0; i < m; ++i) {
    uint8_t* panel = packed + i / kPanel * num_steps * kTileBytes + i % kPanel * kMaxRowBytes;
    for (int64_t q = 0; q < num_steps; ++q) {
      std::copy_n(a + i * lda + q * kInt8Step, kInt8Step, panel + q * kTileBytes);
    }
  }
}

void pack_s8_b(int64_t n, int64_t k_packed, const int8_t* b, int64_t ldb, int8_t* packed) {
  check_depth("k_packed", k_packed);
  const int64_t num_steps = k_packed / kInt8Step;
  std::fill(packed, packed + packed_s8_b_bytes(n, k_packed), int8_t{0});
  for (int64_t j = 0; j < n; ++j) {
    int8_t* panel = packed + j / kPanel * num_steps * kTileBytes + j % kPanel * 4;
    for (int64_t p = 0; p < k_packed; ++p) {
      panel[p / kInt8Step * kTileBytes + p % kInt8Step / 4 * kMaxRowBytes + p % 4] = b[j * ldb + p];
    }
  }
}

void gemm_u8s8(TileBackend backend, int64_t m, int64_t n, int64_t k_packed, int64_t k0, int64_t k,
               const uint8_t* packed_a, const int8_t* packed_b, bool accumulate, int32_t* c, int64_t ldc) {
  check_depth("k_packed", k_packed);
  check_depth("k0", k0);
  check_depth("k", k);
  if (k0 + k > k_packed) {
    throw_error(ErrorKind::kInvalidArgument, "AMX int8 GEMM: k0 + k = {} + {} is past the packed depth {}", k0, k,
                k_packed);
  }
  if (m <= 0 || n <= 0) return;
  if (backend == TileBackend::kHardware) {
    PAGEDLLM_CHECK_MSG(has_amx_int8(), "AMX-INT8 GEMM on a CPU without it ({})", amx_status());
    hardware::gemm_u8s8(m, n, k_packed, k0, k, packed_a, packed_b, accumulate, c, ldc);
    return;
  }
  gemm_u8s8_tiles<EmulatedTiles>(m, n, k_packed, k0, k, packed_a, packed_b, accumulate, c, ldc);
}

void gemm_s8u8_groups(TileBackend backend, int num_rows, const uint8_t* panel, const float* steps,
                      int64_t num_groups, const int8_t* levels, int64_t ld_levels, const float* xd,
                      const int32_t* starts, int64_t ld_groups, int num_cols, float* c, int64_t ldc, bool accumulate) {
  PAGEDLLM_CHECK_MSG(num_rows >= 1 && num_rows <= kPanel && num_cols >= 1 && num_cols <= kGroupPanelCols,
                     "AMX int8 group tile of {} rows × {} columns", num_rows, num_cols);
  if (backend == TileBackend::kHardware) {
    PAGEDLLM_CHECK_MSG(has_amx_int8(), "AMX-INT8 GEMM on a CPU without it ({})", amx_status());
    hardware::gemm_s8u8_groups(num_rows, panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups, num_cols,
                               c, ldc, accumulate);
    return;
  }
  gemm_s8u8_groups_tiles<EmulatedTiles>(num_rows, panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups,
                                        num_cols, c, ldc, accumulate);
}

}  // namespace pagedllm::amx
