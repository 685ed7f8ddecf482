#include "kernels/amx/bf16_packing.h"

#include <algorithm>

#include "kernels/amx/tile_config.h"
#include "kernels/cpu_features.h"
#include "kernels/dense_elem_dispatch.h"
#include "kernels/x86_avx512/amx_bf16_packing.h"
#include "kernels/x86_avx512_bf16/amx_bf16_packing.h"
#include "util/half.h"

namespace pagedllm::amx {
namespace {

constexpr int64_t kPanel = 16;
constexpr int64_t kStep = 32;                      // k per bf16 tile
constexpr int64_t kTileValues = kTileBytes / 2;  // bf16 values per tile

// How each storage type of B becomes bf16.
struct F32ToBf16 {
  using Storage = float;
  static uint16_t load(const float* p) { return f32_to_bf16(*p); }
};
struct F16ToBf16 {
  using Storage = uint16_t;
  static uint16_t load(const uint16_t* p) { return f32_to_bf16(f16_to_f32(*p)); }
};
struct Bf16AsIs {
  using Storage = uint16_t;
  static uint16_t load(const uint16_t* p) { return *p; }
};

void pack_a(const float* a, int64_t lda, int64_t m, int64_t p0, int64_t kc, int64_t num_steps, uint16_t* out) {
  const int64_t panel_values = num_steps * kTileValues;
  for (int64_t i = 0; i < (m + kPanel - 1) / kPanel * kPanel; ++i) {
    uint16_t* panel = out + i / kPanel * panel_values + i % kPanel * kStep;
    for (int64_t p = 0; p < num_steps * kStep; ++p) {
      panel[p / kStep * kTileValues + p % kStep] = i < m && p < kc ? f32_to_bf16(a[i * lda + p0 + p]) : 0;
    }
  }
}

template <class Elem>
void pack_b_as(bool trans_b, const typename Elem::Storage* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
               int64_t nc, int64_t num_steps, uint16_t* out) {
  const int64_t num_panels = (nc + kPanel - 1) / kPanel;
  const int64_t panel_values = num_steps * kTileValues;
  std::fill(out, out + num_panels * panel_values, uint16_t{0});
  const auto slot = [&](int64_t p, int64_t j) {
    return j / kPanel * panel_values + p / kStep * kTileValues + p % kStep / 2 * kPanel * 2 + j % kPanel * 2 + p % 2;
  };
  if (trans_b) {  // b is (n, k): each column of op(B) is a contiguous row of b
    for (int64_t j = 0; j < nc; ++j) {
      const auto* row = b + (j0 + j) * ldb + p0;
      for (int64_t p = 0; p < kc; ++p) out[slot(p, j)] = Elem::load(row + p);
    }
  } else {
    for (int64_t p = 0; p < kc; ++p) {
      const auto* row = b + (p0 + p) * ldb + j0;
      for (int64_t j = 0; j < nc; ++j) out[slot(p, j)] = Elem::load(row + j);
    }
  }
}

void pack_b(WeightFormat format, bool trans_b, const void* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
            int64_t nc, int64_t num_steps, uint16_t* out) {
  with_dense_elem<F32ToBf16, F16ToBf16, Bf16AsIs>(format, [&](auto elem) {
    using Elem = decltype(elem);
    pack_b_as<Elem>(trans_b, static_cast<const typename Elem::Storage*>(b), ldb, p0, kc, j0, nc, num_steps, out);
  });
}

}  // namespace

const Bf16Packers& scalar_bf16_packers() {
  static const Bf16Packers packers{&pack_a, &pack_b};
  return packers;
}

const Bf16Packers& bf16_packers() {
  static const Bf16Packers& chosen = has_avx512_bf16() ? avx512_bf16::amx_bf16_packers()
                                     : has_avx512()    ? avx512::amx_bf16_packers()
                                                       : scalar_bf16_packers();
  return chosen;
}

}  // namespace pagedllm::amx
