// AVX-512 streaming (decode) kernel over BF16 weights stored as panels (kernels/bf16_panels.h), the same contract as
// generic::bf16_panels_matmul_rows. Only call after has_avx512() (kernels/cpu_features.h).
//
// Products are fp32 (each bf16 widened exactly, as the row-major kernels do): the layout changes what is read, not
// what is computed. Every output is summed in the same order whatever n_rows and the row range are, so a request's
// logits do not depend on what else is in the batch or how the pool split W.
#pragma once

#include <cstdint>

namespace pagedllm::avx512 {

void bf16_panels_matmul_rows(const uint32_t* panels, int64_t n_in, int64_t row_begin, int64_t row_end,
                             const float* x, int64_t n_rows, float* y, int64_t ldy);

}  // namespace pagedllm::avx512
