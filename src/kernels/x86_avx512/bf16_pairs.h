// bf16 pairs held in 32-bit words (the low half the even element, the high half the odd one: how the bf16 panels
// and a bf16 KV cache's rows store them) widened to fp32, exactly: bf16 is the top half of an fp32.
// Internal to each AVX-512 translation unit that includes it (see x86_avx512/pack_buffer.h).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace pagedllm {
namespace {

inline __m512 bf16_pair_low(__m512i words) { return _mm512_castsi512_ps(_mm512_slli_epi32(words, 16)); }

inline __m512 bf16_pair_high(__m512i words) {
  return _mm512_castsi512_ps(_mm512_and_si512(words, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

}  // namespace
}  // namespace pagedllm
