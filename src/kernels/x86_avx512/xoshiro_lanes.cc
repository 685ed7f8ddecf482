#include "kernels/x86_avx512/xoshiro_lanes.h"

#include <immintrin.h>

namespace pagedllm::avx512 {

void bernoulli_keep_x8(std::array<std::array<uint64_t, 4>, 8>& states, uint64_t threshold, uint8_t* const out[8],
                       int64_t count) {
  // s[j] holds word j of every lane's state.
  __m512i s[4];
  for (int j = 0; j < 4; ++j) {
    alignas(64) uint64_t words[8];
    for (int l = 0; l < 8; ++l) words[l] = states[l][j];
    s[j] = _mm512_load_si512(words);
  }
  const __m512i limit = _mm512_set1_epi64(static_cast<long long>(threshold));
  const __m512i five = _mm512_set1_epi64(5), nine = _mm512_set1_epi64(9);
  // 64 steps give 64 lane masks (one byte each); a byte test per lane then turns them into that lane's 64 bytes.
  alignas(64) uint8_t lane_masks[64];
  for (int64_t i0 = 0; i0 < count; i0 += 64) {
    const int64_t steps = count - i0 < 64 ? count - i0 : 64;
    for (int64_t i = 0; i < steps; ++i) {
      const __m512i result = _mm512_mullo_epi64(_mm512_rol_epi64(_mm512_mullo_epi64(s[1], five), 7), nine);
      const __m512i t = _mm512_slli_epi64(s[1], 17);
      s[2] = _mm512_xor_si512(s[2], s[0]);
      s[3] = _mm512_xor_si512(s[3], s[1]);
      s[1] = _mm512_xor_si512(s[1], s[2]);
      s[0] = _mm512_xor_si512(s[0], s[3]);
      s[2] = _mm512_xor_si512(s[2], t);
      s[3] = _mm512_rol_epi64(s[3], 45);
      lane_masks[i] = static_cast<uint8_t>(_mm512_cmpge_epu64_mask(_mm512_srli_epi64(result, 11), limit));
    }
    const __m512i masks = _mm512_load_si512(lane_masks);
    const __mmask64 valid = steps == 64 ? ~__mmask64{0} : (__mmask64{1} << steps) - 1;
    for (int l = 0; l < 8; ++l) {
      const __mmask64 keep = _mm512_test_epi8_mask(masks, _mm512_set1_epi8(static_cast<char>(1 << l)));
      _mm512_mask_storeu_epi8(out[l] + i0, valid, _mm512_maskz_mov_epi8(keep, _mm512_set1_epi8(1)));
    }
  }
  for (int j = 0; j < 4; ++j) {
    alignas(64) uint64_t words[8];
    _mm512_store_si512(words, s[j]);
    for (int l = 0; l < 8; ++l) states[l][j] = words[l];
  }
}

}  // namespace pagedllm::avx512
