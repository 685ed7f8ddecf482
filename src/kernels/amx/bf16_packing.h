// The packing of the AMX bf16 GEMM's operands (amx/tile_gemm.h: 1 KiB tiles, panels of 16 rows of A or columns of
// op(B)), fp32 / f16 → bf16 rounded to nearest-even exactly as util/half.h's f32_to_bf16 (denormals rounded, not
// flushed; NaN kept quiet). Three implementations with equal bytes out: the scalar reference here, and x86_avx512/
// (integer rounding, AVX-512F) and x86_avx512_bf16/ (vcvtne2ps2bf16, denormal lanes redone in integers), chosen at
// run time; amx_bf16_packing_test.cc compares them byte for byte.
#pragma once

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace pagedllm::amx {

struct Bf16Packers {
  // A[0 : m, p0 : p0 + kc] (fp32, row-major, lda) → ⌈m / 16⌉ panels of num_steps tiles (num_steps · 32 ≥ kc);
  // tile s of panel P, row r holds A[16P + r, p0 + 32s : p0 + 32s + 32], zero past m and past kc.
  void (*pack_a)(const float* a, int64_t lda, int64_t m, int64_t p0, int64_t kc, int64_t num_steps, uint16_t* out);
  // op(B)[p0 : p0 + kc, j0 : j0 + nc] (b of `format` F32, F16 or BF16: (n, k) when trans_b, else (k, n)) →
  // ⌈nc / 16⌉ panels of num_steps VNNI tiles: element (p, j) at panel j / 16, tile p / 32, row p % 32 / 2,
  // column j % 16, half p % 2; zero past nc and past kc.
  void (*pack_b)(WeightFormat format, bool trans_b, const void* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                 int64_t nc, int64_t num_steps, uint16_t* out);
};

// The reference, on any CPU.
const Bf16Packers& scalar_bf16_packers();
// The fastest this CPU runs: AVX512-BF16, else AVX-512F, else the scalar ones.
const Bf16Packers& bf16_packers();

}  // namespace pagedllm::amx
