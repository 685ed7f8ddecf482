#include "quant/q8_0_weight.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "kernels/cpu_features.h"
#include "quant/generic/quant_kernels.h"
#include "quant/quant_kernels.h"
#include "quant/x86_avx2/quant_kernels.h"
#include "quant/x86_avx512/quant_kernels.h"
#include "util/error.h"
#include "util/half.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

void check_n_in(int64_t n_in) {
  if (n_in % Q8_0Weight::kBlockValues != 0) {
    throw_error(ErrorKind::kInvalidArgument, "Q8_0 needs n_in to be a multiple of 32; got {}", n_in);
  }
}

}  // namespace

Q8_0Weight::Q8_0Weight(int64_t n_out, int64_t n_in, std::vector<uint8_t> blocks)
    : QuantizedWeight(WeightFormat::kQ8_0, n_out, n_in), blocks_(std::move(blocks)) {
  check_n_in(n_in);
  const int64_t expected = n_out * (n_in / kBlockValues) * kBlockBytes;
  if (static_cast<int64_t>(blocks_.size()) != expected) {
    throw_error(ErrorKind::kCorrupt, "Q8_0 weight ({}, {}): {} bytes, expected {}", n_out, n_in, blocks_.size(),
                expected);
  }
}

bool Q8_0Weight::vnni_decode() const { return has_avx2_fma_f16c() && has_avx512_vnni() && q8_activations_enabled(); }

RowRangeProduct Q8_0Weight::decode_product(const float* x, float* y, int64_t n_rows, bool allow_avx2,
                                           bool allow_q8_activations) const {
  const bool q8 = allow_avx2 && allow_q8_activations && q8_activations_enabled();
  const bool vnni = q8 && has_avx512_vnni();
  auto q8x = std::make_shared<const Q8Activations>(q8 ? Q8Activations(x, n_in(), n_rows, Q8Order::kNatural)
                                                      : Q8Activations());
  auto run = [this, x, y, n_rows, allow_avx2, q8, vnni, q8x](int64_t begin, int64_t end) {
    const int64_t row_bytes = n_in() / kBlockValues * kBlockBytes;
    if (vnni) {  // a task's rows in one call: the kernel takes them 4 at a time
      avx512::dot_q8_0_q8_rows(blocks_.data() + begin * row_bytes, q8x->levels(), q8x->steps(), q8x->lane_sums(), n_in(),
                            n_rows, end - begin, y + begin, n_out());
      return;
    }
    for (int64_t j = begin; j < end; ++j) {
      const uint8_t* row = blocks_.data() + j * row_bytes;
      if (q8) {
        avx2::dot_q8_0_q8_row(row, q8x->levels(), q8x->steps(), n_in(), n_rows, y + j, n_out());
      } else if (allow_avx2) {
        avx2::dot_q8_0_row(row, x, n_in(), n_in(), n_rows, y + j, n_out());
      } else {
        generic::dot_q8_0_row(row, x, n_in(), n_in(), n_rows, y + j, n_out());
      }
    }
  };
  return RowRangeProduct{.run = std::move(run), .n_out = n_out(), .min_task_rows = 16};
}

std::optional<Int8GemmWeights> Q8_0Weight::int8_gemm_weights() const {
  if (!q8_activations_enabled()) return std::nullopt;
  Int8GemmWeights w;
  w.layout = Int8GemmWeights::Layout::kQ8_0;
  w.data = blocks_.data();
  w.n_out = n_out();
  w.n_in = n_in();
  return w;
}

void Q8_0Weight::dequantize_tile(int64_t row0, int64_t num_rows, int64_t col0, int64_t num_cols, float* out,
                                 int64_t ld) const {
  const int64_t row_bytes = n_in() / kBlockValues * kBlockBytes;
  for (int64_t r = 0; r < num_rows; ++r) {
    const uint8_t* row = blocks_.data() + (row0 + r) * row_bytes;
    for (int64_t b = col0 / kBlockValues; b < (col0 + num_cols) / kBlockValues; ++b) {
      const uint8_t* block = row + b * kBlockBytes;
      uint16_t d_bits;
      std::memcpy(&d_bits, block, 2);
      const float d = f16_to_f32(d_bits);
      const auto* q = reinterpret_cast<const int8_t*>(block + 2);
      float* dst = out + r * ld + (b * kBlockValues - col0);
      for (int64_t i = 0; i < kBlockValues; ++i) dst[i] = static_cast<float>(q[i]) * d;
    }
  }
}

std::unique_ptr<Q8_0Weight> quantize_q8_0(const float* w, int64_t n_out, int64_t n_in) {
  check_n_in(n_in);
  const int64_t blocks_per_row = n_in / Q8_0Weight::kBlockValues;
  std::vector<uint8_t> blocks(static_cast<size_t>(n_out * blocks_per_row * Q8_0Weight::kBlockBytes));
  parallel_for(n_out, 8, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      for (int64_t b = 0; b < blocks_per_row; ++b) {
        const float* src = w + j * n_in + b * Q8_0Weight::kBlockValues;
        uint8_t* block = blocks.data() + (j * blocks_per_row + b) * Q8_0Weight::kBlockBytes;
        float absmax = 0.0f;
        for (int64_t i = 0; i < Q8_0Weight::kBlockValues; ++i) absmax = std::max(absmax, std::fabs(src[i]));
        const float d = absmax / 127.0f;
        const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t d_bits = f32_to_f16(d);
        std::memcpy(block, &d_bits, 2);
        for (int64_t i = 0; i < Q8_0Weight::kBlockValues; ++i) {
          block[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(std::roundf(src[i] * inverse)));
        }
      }
    }
  });
  return std::make_unique<Q8_0Weight>(n_out, n_in, std::move(blocks));
}

}  // namespace pagedllm
