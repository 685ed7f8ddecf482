// Eight xoshiro256** generators (util/rng.h) stepped at once, one per 64-bit lane of AVX-512 registers, for the
// dropout masks of fine-tuning (train/lora.h): each lane yields exactly the outputs its scalar Rng would.
// Compiled with AVX-512 F/BW/DQ; enter only when has_avx512().
#pragma once

#include <array>
#include <cstdint>

namespace pagedllm::avx512 {

// For lane l < 8 and i < count: out[l][i] = 1 if (x >> 11) ≥ threshold for the i-th next output x of the generator
// whose state is states[l], else 0 (that is Rng::uniform() ≥ threshold · 2⁻⁵³). The states advance by count steps.
void bernoulli_keep_x8(std::array<std::array<uint64_t, 4>, 8>& states, uint64_t threshold, uint8_t* const out[8],
                       int64_t count);

}  // namespace pagedllm::avx512
