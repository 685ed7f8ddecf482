// Q8_0 weights in GGUF's block layout (research/formats.md §6): each row is cut into blocks of 32 values along
// n_in, stored as 34 bytes {f16 d; int8 q[32]}, with ggml's quantize_row_q8_0_ref:
//   d = absmax / 127 (fp32),  q = roundf(x · (1 / d)) (half away from zero; 0 when d is 0),  stored d = f16(d),
//   w = q · f32(stored d).
// Requires n_in % 32 == 0.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "quant/quantized_weight.h"

namespace pagedllm {

class Q8_0Weight final : public QuantizedWeight {
 public:
  static constexpr int64_t kBlockValues = 32;
  static constexpr int64_t kBlockBytes = 34;

  // blocks: n_out · n_in / 32 blocks of 34 bytes. Throws Error(kInvalidArgument) when n_in % 32 != 0 and
  // Error(kCorrupt) when the byte count disagrees.
  Q8_0Weight(int64_t n_out, int64_t n_in, std::vector<uint8_t> blocks);

  RowRangeProduct decode_product(const float* x, float* y, int64_t n_rows, bool allow_avx2,
                                 bool allow_q8_activations) const override;
  void dequantize_tile(int64_t row0, int64_t num_rows, int64_t col0, int64_t num_cols, float* out,
                       int64_t ld) const override;
  int64_t column_alignment() const override { return kBlockValues; }
  std::optional<Int8GemmWeights> int8_gemm_weights() const override;
  size_t num_bytes() const override { return blocks_.size(); }

  const std::vector<uint8_t>& blocks() const { return blocks_; }

 private:
  bool vnni_decode() const override;
  std::vector<uint8_t> blocks_;
};

std::unique_ptr<Q8_0Weight> quantize_q8_0(const float* w, int64_t n_out, int64_t n_in);

}  // namespace pagedllm
