// NF4, FP4 and INT4 weights: bitsandbytes' blockwise 4-bit layout (research/formats.md §5).
//   - the row-major (n_out, n_in) matrix is flattened and cut into blocks of block_size consecutive values, block
//     index = (row · n_in + col) / block_size; when n_in % block_size != 0 a block spans two rows (stories260K's
//     down_proj has n_in 172) and the last block may be partial, as in bitsandbytes;
//   - each value is scaled by 1/absmax of its block and mapped to a 4-bit code (quant/codebooks.h);
//   - byte k of the packed codes holds element 2k in its high nibble and element 2k+1 in its low nibble;
//   - the per-block absmax constants are fp32 or double-quantized (quant/block_scales.h).
// Dequantized value: w = code_values[code] · absmax[block], one fp32 multiply.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "quant/block_scales.h"
#include "quant/quantized_weight.h"

namespace pagedllm {

// The 16 code values of a 4-bit format (kNF4, kFP4 or kInt4).
const std::array<float, 16>& code_values_4bit(WeightFormat format);

class Blockwise4BitWeight final : public QuantizedWeight {
 public:
  // packed: n_out · n_in / 2 bytes; scales: ceil(n_out · n_in / block_size) blocks. Throws Error(kCorrupt) on sizes
  // that disagree, Error(kInvalidArgument) when n_in or block_size is odd (a byte would straddle two rows).
  Blockwise4BitWeight(WeightFormat format, int64_t n_out, int64_t n_in, int64_t block_size, std::vector<uint8_t> packed,
                      BlockScales scales);

  RowRangeProduct decode_product(const float* x, float* y, int64_t n_rows, bool allow_avx2,
                                 bool allow_q8_activations) const override;
  void dequantize_tile(int64_t row0, int64_t num_rows, int64_t col0, int64_t num_cols, float* out,
                       int64_t ld) const override;
  int64_t column_alignment() const override { return 2; }
  std::optional<Int8GemmWeights> int8_gemm_weights() const override;
  size_t num_bytes() const override { return packed_.size() + scales_.num_bytes(); }

  int64_t block_size() const { return block_size_; }
  const std::vector<uint8_t>& packed() const { return packed_; }
  const BlockScales& scales() const { return scales_; }
  const std::array<float, 16>& code_values() const { return *code_values_; }

 private:
  bool vnni_decode() const override;
  int64_t block_size_;
  std::vector<uint8_t> packed_;
  BlockScales scales_;
  const std::array<float, 16>* code_values_;
  std::array<int8_t, 16> code_values_i8_;  // for the 8-bit-activation decode kernel
};

// Quantizes a dense fp32 (n_out, n_in) row-major matrix. Throws Error(kInvalidArgument) unless n_in and block_size
// are even and positive. A block of zeros gets absmax 0 and the format's code for 0 (bnb would divide by zero).
std::unique_ptr<Blockwise4BitWeight> quantize_blockwise_4bit(WeightFormat format, const float* w, int64_t n_out,
                                                             int64_t n_in, int64_t block_size, bool double_quant,
                                                             int nested_block_size);

}  // namespace pagedllm
