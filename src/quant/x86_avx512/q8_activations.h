// AVX-512 quantization of decode activations to 8 bits (quant/quant_kernels.h, make_q8_activations), entered only
// after has_avx512().
#pragma once

#include <cstdint>

#include "quant/quant_kernels.h"

namespace pagedllm::avx512 {

// Bit for bit generic::make_q8_activations' output for finite x: the same fp32 division and product, rounding to
// nearest even (nearbyint in the default rounding mode) and clamp, 32 values per group at once.
void make_q8_activations(const float* x, int64_t n_in, int64_t n_rows, Q8Order order, int8_t* xq, float* xd);

}  // namespace pagedllm::avx512
