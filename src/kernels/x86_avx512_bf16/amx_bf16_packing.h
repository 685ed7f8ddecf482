// The AMX bf16 packing with vcvtneps2bf16 (amx/bf16_packing.h). Only after has_avx512_bf16(), which has_amx_bf16()
// implies: the packing the hardware tiles use.
#pragma once

#include "kernels/amx/bf16_packing.h"

namespace pagedllm::avx512_bf16 {

const amx::Bf16Packers& amx_bf16_packers();

}  // namespace pagedllm::avx512_bf16
