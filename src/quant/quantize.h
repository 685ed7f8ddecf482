// The entry point the model loader uses: a dense fp32 matrix in, a WeightMatrix in the requested format out.
//
// Shape contracts (checked, Error(kInvalidArgument) otherwise):
//   NF4, FP4, INT4: n_in and block_size even (blocks run over the flattened matrix as in bitsandbytes, so n_in need
//                   not be a multiple of block_size; stories260K's down_proj has n_in 172);
//   Q8_0: n_in % 32 == 0;  INT8, F32, F16, BF16: any positive shape.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "kernels/weight_matrix.h"

namespace pagedllm {

struct QuantConfig {
  WeightFormat format = WeightFormat::kNF4;
  int block_size = 64;          // 4-bit formats: values per absmax block (bitsandbytes' default 64)
  bool double_quant = true;     // 4-bit formats: quantize the absmax constants to 8 bits (QLoRA's DQ)
  int nested_block_size = 256;  // constants per nested block under double quantization
};

// Quantizes w (n_out, n_in), row-major fp32. Dense formats convert (F16/BF16 round to nearest even).
std::unique_ptr<WeightMatrix> quantize_weight(const float* w, int64_t n_out, int64_t n_in, const QuantConfig& config);

// "nf4", "fp4", "int4", "int8", "q8_0", "f32", "f16", "bf16" (case-insensitive) → the format; anything else throws
// Error(kInvalidArgument) listing the choices.
WeightFormat parse_weight_format(std::string_view name);

// True for NF4, FP4 and INT4 (the formats with block_size and double quantization).
bool is_4bit_format(WeightFormat format);

}  // namespace pagedllm
