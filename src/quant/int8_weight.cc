#include "quant/int8_weight.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "kernels/cpu_features.h"
#include "quant/generic/quant_kernels.h"
#include "quant/quant_kernels.h"
#include "quant/x86_avx2/quant_kernels.h"
#include "quant/x86_avx512/quant_kernels.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {

Int8RowWeight::Int8RowWeight(int64_t n_out, int64_t n_in, std::vector<int8_t> q, std::vector<float> scales)
    : QuantizedWeight(WeightFormat::kInt8, n_out, n_in), q_(std::move(q)), scales_(std::move(scales)) {
  if (static_cast<int64_t>(q_.size()) != n_out * n_in || static_cast<int64_t>(scales_.size()) != n_out) {
    throw_error(ErrorKind::kCorrupt, "int8 weight ({}, {}): {} values and {} row scales, expected {} and {}", n_out,
                n_in, q_.size(), scales_.size(), n_out * n_in, n_out);
  }
}

bool Int8RowWeight::vnni_decode() const {
  return has_avx2_fma_f16c() && has_avx512_vnni() && q8_activations_enabled() && n_in() % 32 == 0;
}

RowRangeProduct Int8RowWeight::decode_product(const float* x, float* y, int64_t n_rows, bool allow_avx2,
                                              bool allow_q8_activations) const {
  const bool q8 = allow_avx2 && allow_q8_activations && q8_activations_enabled() && n_in() % 32 == 0;
  const bool use_avx2 = allow_avx2 && n_in() % 16 == 0;
  const bool vnni = q8 && has_avx512_vnni();
  auto q8x = std::make_shared<const Q8Activations>(q8 ? Q8Activations(x, n_in(), n_rows, Q8Order::kNatural)
                                                      : Q8Activations());
  auto run = [this, x, y, n_rows, q8, use_avx2, vnni, q8x](int64_t begin, int64_t end) {
    if (vnni) {  // a task's rows in one call: the kernel takes them 4 at a time
      avx512::dot_int8_q8_rows(q_.data() + begin * n_in(), scales_.data() + begin, q8x->levels(), q8x->steps(),
                            q8x->lane_sums(), n_in(), n_rows, end - begin, y + begin, n_out());
      return;
    }
    for (int64_t j = begin; j < end; ++j) {
      const int8_t* row = q_.data() + j * n_in();
      if (q8) {
        avx2::dot_int8_q8_row(row, scales_[j], q8x->levels(), q8x->steps(), n_in(), n_rows, y + j, n_out());
      } else if (use_avx2) {
        avx2::dot_int8_row(row, scales_[j], x, n_in(), n_in(), n_rows, y + j, n_out());
      } else {
        generic::dot_int8_row(row, scales_[j], x, n_in(), n_in(), n_rows, y + j, n_out());
      }
    }
  };
  return RowRangeProduct{.run = std::move(run), .n_out = n_out(), .min_task_rows = 16};
}

std::optional<Int8GemmWeights> Int8RowWeight::int8_gemm_weights() const {
  if (!q8_activations_enabled() || n_in() % 32 != 0) return std::nullopt;
  Int8GemmWeights w;
  w.layout = Int8GemmWeights::Layout::kInt8Rows;
  w.data = q_.data();
  w.n_out = n_out();
  w.n_in = n_in();
  w.row_scales = scales_.data();
  return w;
}

void Int8RowWeight::dequantize_tile(int64_t row0, int64_t num_rows, int64_t col0, int64_t num_cols, float* out,
                                    int64_t ld) const {
  for (int64_t r = 0; r < num_rows; ++r) {
    const int8_t* src = q_.data() + (row0 + r) * n_in() + col0;
    const float scale = scales_[row0 + r];
    for (int64_t i = 0; i < num_cols; ++i) out[r * ld + i] = static_cast<float>(src[i]) * scale;
  }
}

std::unique_ptr<Int8RowWeight> quantize_int8_rows(const float* w, int64_t n_out, int64_t n_in) {
  std::vector<int8_t> q(static_cast<size_t>(n_out * n_in));
  std::vector<float> scales(static_cast<size_t>(n_out));
  parallel_for(n_out, 8, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      const float* row = w + j * n_in;
      float absmax = 0.0f;
      for (int64_t i = 0; i < n_in; ++i) absmax = std::max(absmax, std::fabs(row[i]));
      const float factor = absmax > 0.0f ? 127.0f / absmax : 0.0f;
      for (int64_t i = 0; i < n_in; ++i) {
        q[j * n_in + i] = static_cast<int8_t>(std::clamp(std::nearbyint(row[i] * factor), -127.0f, 127.0f));
      }
      scales[j] = absmax / 127.0f;
    }
  });
  return std::make_unique<Int8RowWeight>(n_out, n_in, std::move(q), std::move(scales));
}

}  // namespace pagedllm
