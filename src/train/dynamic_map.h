// bitsandbytes' 8-bit "dynamic" quantization map (create_dynamic_map(signed, max_exponent_bits=7, total_bits=8)):
// 256 sorted values in [−1, 1] (signed) or [0, 1] (unsigned), dense near zero, used to store the AdamW moments in
// 8 bits per value, one absmax per block of 256 values (paged_adamw_8bit).
#pragma once

#include <array>
#include <cstdint>

namespace pagedllm {

using DynamicMap = std::array<float, 256>;

// Signed: 127 negative values, 0, 127 positive values and 1.0. Unsigned: 0, 254 positive values and 1.0.
// Computed in float as bitsandbytes does with torch float32 tensors.
const DynamicMap& dynamic_map(bool is_signed);

// Index of the map value nearest to x (x already divided by the block's absmax, so in [−1, 1]); ties go to the
// lower index.
uint8_t quantize_to_map(const DynamicMap& map, float x);

}  // namespace pagedllm
