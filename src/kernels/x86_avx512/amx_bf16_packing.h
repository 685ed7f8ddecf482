// The AMX bf16 packing on AVX-512F, fp32 → bf16 by integer rounding (amx/bf16_packing.h). Only after has_avx512().
#pragma once

#include "kernels/amx/bf16_packing.h"

namespace pagedllm::avx512 {

const amx::Bf16Packers& amx_bf16_packers();

}  // namespace pagedllm::avx512
