// The input layouts every ISA's kernels share (quant/quant_kernels.h): regrouped and 8-bit activations, lane sums,
// and whether the fast layouts apply.
#include "quant/quant_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "kernels/cpu_features.h"
#include "quant/generic/quant_kernels.h"
#include "quant/x86_avx512/q8_activations.h"

namespace pagedllm {

void make_q8_lane_sums(const int8_t* xq, int64_t n_levels, int32_t* lane_sums) {
  for (int64_t i = 0; i + 4 <= n_levels; i += 4) {
    lane_sums[i / 4] = -128 * (int32_t{xq[i]} + xq[i + 1] + xq[i + 2] + xq[i + 3]);
  }
}

Q8QuadActivations::Q8QuadActivations(const float* x, int64_t n_in, int64_t n_rows)
    : levels_(static_cast<size_t>(n_rows * n_in)),
      starts_(static_cast<size_t>(n_rows * n_in / 4)),
      steps_(static_cast<size_t>(n_rows * n_in / 4)) {
  std::vector<int8_t> q(levels_.size());  // evens then odds per group of 32
  std::vector<float> xd(static_cast<size_t>(n_rows * n_in / 32));
  make_q8_activations(x, n_in, n_rows, Q8Order::kEvensThenOdds, q.data(), xd.data());
  const int64_t groups = n_in / 32;
  const int64_t chunks = groups / 4;
  for (int64_t r = 0; r < n_rows; ++r) {
    const int8_t* src = q.data() + r * n_in;
    int8_t* dst = levels_.data() + r * n_in;
    int32_t* starts = starts_.data() + r * (n_in / 4);
    float* steps = steps_.data() + r * (n_in / 4);
    const float* d = xd.data() + r * groups;
    for (int64_t c = 0; c < chunks; ++c) {
      for (int64_t k = 0; k < 4; ++k) {
        std::copy_n(src + 128 * c + 32 * k, 16, dst + 128 * c + 16 * k);
        std::copy_n(src + 128 * c + 32 * k + 16, 16, dst + 128 * c + 64 + 16 * k);
      }
      for (int64_t l = 0; l < 16; ++l) {
        const int8_t* even = dst + 128 * c + 4 * l;
        const int8_t* odd = even + 64;
        starts[16 * c + l] =
            -128 * (int32_t{even[0]} + even[1] + even[2] + even[3] + odd[0] + odd[1] + odd[2] + odd[3]);
        steps[16 * c + l] = d[4 * c + l / 4] / 127.0f;
      }
    }
    const int64_t tail = 128 * chunks;
    std::copy(src + tail, src + n_in, dst + tail);
    make_q8_lane_sums(dst + tail, n_in - tail, starts + 16 * chunks);
    for (int64_t g = 4 * chunks; g < groups; ++g) {
      std::fill_n(steps + 16 * chunks + 8 * (g - 4 * chunks), 8, d[g] / 127.0f);
    }
  }
}

bool vnni_quads_apply(int64_t n_in, int64_t block_size) {
  const int64_t groups_per_block = block_size / 32;
  return q8_activations_enabled() && n_in % 64 == 0 && block_size % 64 == 0 &&
         (groups_per_block & (groups_per_block - 1)) == 0;
}

void make_4bit_quads(const float* x, int64_t n_in, int64_t n_rows, float* x_quads) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t k = 0; k < n_in / 2; ++k) {
      x_quads[r * n_in + quad_even_index(k)] = x[r * n_in + 2 * k];
      x_quads[r * n_in + quad_odd_index(k, n_in)] = x[r * n_in + 2 * k + 1];
    }
  }
}

bool q8_activations_apply(int64_t n_in, int64_t block_size) {
  return q8_activations_enabled() && n_in % 32 == 0 && block_size % 32 == 0;
}

bool q8_activations_enabled() {
  static const bool enabled = [] {
    const char* exact = std::getenv("PAGEDLLM_EXACT_QUANT_DECODE");
    return exact == nullptr || std::string_view(exact) != "1";
  }();
  return enabled;
}

void make_q8_activations(const float* x, int64_t n_in, int64_t n_rows, Q8Order order, int8_t* xq, float* xd) {
  if (has_avx512()) {
    avx512::make_q8_activations(x, n_in, n_rows, order, xq, xd);
    return;
  }
  generic::make_q8_activations(x, n_in, n_rows, order, xq, xd);
}

std::array<int8_t, 16> code_values_int8(const float* lut) {
  std::array<int8_t, 16> out{};
  for (int c = 0; c < 16; ++c) {
    out[c] = static_cast<int8_t>(std::clamp(std::nearbyint(127.0f * lut[c]), -127.0f, 127.0f));
  }
  return out;
}

}  // namespace pagedllm
