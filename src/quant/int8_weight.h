// INT8 weight-only quantization, one scale per output row (bitsandbytes' int8_vectorwise_quant without outliers):
//   absmax_j = max_i |W[j, i]|,  q[j, i] = round-half-even(W[j, i] · (127 / absmax_j)),  scale_j = absmax_j / 127,
//   w = q · scale_j. Round-trip error ≤ scale_j / 2 (plus fp32 rounding).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "quant/quantized_weight.h"

namespace pagedllm {

class Int8RowWeight final : public QuantizedWeight {
 public:
  // q: n_out · n_in values; scales: n_out. Throws Error(kCorrupt) when the sizes disagree.
  Int8RowWeight(int64_t n_out, int64_t n_in, std::vector<int8_t> q, std::vector<float> scales);

  RowRangeProduct decode_product(const float* x, float* y, int64_t n_rows, bool allow_avx2,
                                 bool allow_q8_activations) const override;
  void dequantize_tile(int64_t row0, int64_t num_rows, int64_t col0, int64_t num_cols, float* out,
                       int64_t ld) const override;
  int64_t column_alignment() const override { return 1; }
  std::optional<Int8GemmWeights> int8_gemm_weights() const override;
  size_t num_bytes() const override { return q_.size() + scales_.size() * sizeof(float); }

  const std::vector<int8_t>& q() const { return q_; }
  const std::vector<float>& scales() const { return scales_; }

 private:
  bool vnni_decode() const override;
  std::vector<int8_t> q_;
  std::vector<float> scales_;
};

std::unique_ptr<Int8RowWeight> quantize_int8_rows(const float* w, int64_t n_out, int64_t n_in);

}  // namespace pagedllm
