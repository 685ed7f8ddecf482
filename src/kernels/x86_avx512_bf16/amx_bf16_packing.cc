#include "kernels/x86_avx512_bf16/amx_bf16_packing.h"

#include "kernels/x86_avx512/amx_bf16_packing_impl.h"

namespace pagedllm::avx512_bf16 {
namespace {

// vcvtneps2bf16 rounds as f32_to_bf16 does, NaN included, except that it flushes denormal inputs to zero (Intel SDM,
// convert_fp32_to_bfloat16): lanes holding a denormal, rare in real data, are redone in integers.
struct Vcvtneps {
  static __m256i to_bf16(__m512 v) {
    const __m256i converted = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
    const __m512i bits = _mm512_castps_si512(v);
    const __mmask16 denormal = _mm512_testn_epi32_mask(bits, _mm512_set1_epi32(0x7f800000)) &
                               _mm512_test_epi32_mask(bits, _mm512_set1_epi32(0x007fffff));
    if (denormal == 0) return converted;
    return _mm256_mask_blend_epi16(denormal, converted, avx512::bf16_by_integer_rounding(v));
  }
};

}  // namespace

const amx::Bf16Packers& amx_bf16_packers() {
  static const amx::Bf16Packers packers{&avx512::pack_a_lanes<Vcvtneps>, &avx512::pack_b_lanes<Vcvtneps>};
  return packers;
}

}  // namespace pagedllm::avx512_bf16
