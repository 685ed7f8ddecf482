#include "quant/blockwise_4bit.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/cpu_features.h"
#include "quant/codebooks.h"
#include "quant/generic/quant_kernels.h"
#include "quant/quant_kernels.h"
#include "quant/x86_avx2/quant_kernels.h"
#include "quant/x86_avx512/quant_kernels.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

void check_even_sizes(int64_t n_in, int64_t block_size) {
  if (block_size <= 0 || block_size % 2 != 0 || n_in % 2 != 0) {
    throw_error(ErrorKind::kInvalidArgument,
                "4-bit weights need an even row length and block size; got n_in {}, "
                "block size {}",
                n_in, block_size);
  }
}

uint8_t quantize_code(WeightFormat format, float scaled) {
  switch (format) {
    case WeightFormat::kNF4: return quantize_nf4(scaled);
    case WeightFormat::kFP4: return quantize_fp4(scaled);
    default: return quantize_int4(scaled);
  }
}

int64_t num_blocks_of(int64_t num_values, int64_t block_size) { return (num_values + block_size - 1) / block_size; }

}  // namespace

const std::array<float, 16>& code_values_4bit(WeightFormat format) {
  switch (format) {
    case WeightFormat::kNF4: return kNf4Values;
    case WeightFormat::kFP4: return kFp4Values;
    case WeightFormat::kInt4: return kInt4Values;
    default: throw_error(ErrorKind::kInvalidArgument, "{} is not a 4-bit weight format", weight_format_name(format));
  }
}

Blockwise4BitWeight::Blockwise4BitWeight(WeightFormat format, int64_t n_out, int64_t n_in, int64_t block_size,
                                         std::vector<uint8_t> packed, BlockScales scales)
    : QuantizedWeight(format, n_out, n_in),
      block_size_(block_size),
      packed_(std::move(packed)),
      scales_(std::move(scales)),
      code_values_(&code_values_4bit(format)),
      code_values_i8_(code_values_int8(code_values_->data())) {
  check_even_sizes(n_in, block_size);
  if (static_cast<int64_t>(packed_.size()) != n_out * n_in / 2) {
    throw_error(ErrorKind::kCorrupt, "4-bit weight ({}, {}): {} packed bytes, expected {}", n_out, n_in, packed_.size(),
                n_out * n_in / 2);
  }
  if (scales_.num_blocks() != num_blocks_of(n_out * n_in, block_size)) {
    throw_error(ErrorKind::kCorrupt, "4-bit weight ({}, {}): {} absmax constants, expected {} (block size {})", n_out,
                n_in, scales_.num_blocks(), num_blocks_of(n_out * n_in, block_size), block_size);
  }
}

bool Blockwise4BitWeight::vnni_decode() const {
  return has_avx2_fma_f16c() && has_avx512_vnni() && q8_activations_apply(n_in(), block_size_);
}

RowRangeProduct Blockwise4BitWeight::decode_product(const float* x, float* y, int64_t n_rows, bool allow_avx2,
                                                    bool allow_q8_activations) const {
  const bool q8 = allow_avx2 && allow_q8_activations && q8_activations_apply(n_in(), block_size_);
  const bool vnni = q8 && has_avx512_vnni();
  if (vnni && vnni_quads_apply(n_in(), block_size_)) {
    int block_shift = 0;  // blocks of 2^block_shift groups of 32
    while ((int64_t{32} << block_shift) < block_size_) ++block_shift;
    auto q8_quads = std::make_shared<const Q8QuadActivations>(x, n_in(), n_rows);
    // Runs of consecutive rows share one call: their codes and constants are contiguous, so the kernel walks them
    // without per-row setup (at n_in = 2048 a row is only 8 chunks of codes).
    auto run = [this, y, n_rows, block_shift, q8_quads](int64_t begin, int64_t end) {
      constexpr int64_t kRowsPerRun = 64;
      const int64_t half_n = n_in() / 2;
      std::vector<float> run_scales;
      for (int64_t j0 = begin; j0 < end; j0 += kRowsPerRun) {
        const int64_t rows = std::min(kRowsPerRun, end - j0);
        const int64_t first_value = j0 * n_in();
        const int64_t first_block = first_value / block_size_;
        const int64_t num_blocks = num_blocks_of(first_value + rows * n_in(), block_size_) - first_block;
        const float* scales = scales_.absmax().data() + first_block;
        if (scales_.is_nested()) {
          run_scales.resize(static_cast<size_t>(num_blocks));
          scales_.dequantize(first_block, num_blocks, run_scales.data());
          scales = run_scales.data();
        }
        avx512::dot_4bit_q8_quads(packed_.data() + j0 * half_n, scales, (first_value - first_block * block_size_) / 32,
                               block_shift, code_values_i8_.data(), q8_quads->levels(), q8_quads->starts(),
                               q8_quads->steps(), n_in(), n_rows, rows, y + j0, n_out());
      }
    };
    return RowRangeProduct{.run = std::move(run), .n_out = n_out(), .min_task_rows = 16};
  }
  // The input in the layout the chosen kernel reads: 8-bit groups for the fast paths, regrouped fp32 otherwise.
  auto q8x = std::make_shared<Q8Activations>();
  auto x_quads = std::make_shared<std::vector<float>>();
  if (q8) {
    *q8x = Q8Activations(x, n_in(), n_rows, Q8Order::kEvensThenOdds);
  } else {
    x_quads->resize(static_cast<size_t>(n_rows * n_in()));
    make_4bit_quads(x, n_in(), n_rows, x_quads->data());
  }
  auto run = [this, y, n_rows, allow_avx2, q8, vnni, q8x, x_quads](int64_t begin, int64_t end) {
    const float* lut = code_values_->data();
    const int64_t half_n = n_in() / 2;
    // A row touches at most this many blocks (it may start inside one).
    const int64_t max_segments = n_in() / block_size_ + 2;
    std::vector<float> row_scales(static_cast<size_t>(max_segments));
    for (int64_t j = begin; j < end; ++j) {
      const int64_t first_value = j * n_in();
      const int64_t first_block = first_value / block_size_;
      const int64_t first_offset = first_value - first_block * block_size_;
      const int64_t num_segments = num_blocks_of(first_offset + n_in(), block_size_);
      // Plain constants are read in place; double-quantized ones are decoded for this row.
      const float* scales = row_scales.data();
      if (scales_.is_nested()) {
        scales_.dequantize(first_block, num_segments, row_scales.data());
      } else {
        scales = scales_.absmax().data() + first_block;
      }
      const uint8_t* codes = packed_.data() + j * half_n;
      if (q8) {
        if (vnni) {
          avx512::dot_4bit_q8_row(codes, scales, first_offset / 32, block_size_ / 32, code_values_i8_.data(),
                               q8x->levels(), q8x->steps(), q8x->lane_sums(), n_in(), n_rows, y + j, n_out());
        } else {
          avx2::dot_4bit_q8_row(codes, scales, first_offset / 32, block_size_ / 32, code_values_i8_.data(),
                               q8x->levels(), q8x->steps(), n_in(), n_rows, y + j, n_out());
        }
      } else if (allow_avx2) {
        avx2::dot_4bit_row(codes, scales, block_size_, first_offset, lut, x_quads->data(), n_in(), n_rows, y + j,
                          n_out());
      } else {
        generic::dot_4bit_row(codes, scales, block_size_, first_offset, lut, x_quads->data(), n_in(), n_rows, y + j,
                             n_out());
      }
    }
  };
  return RowRangeProduct{.run = std::move(run), .n_out = n_out(), .min_task_rows = 16};
}

std::optional<Int8GemmWeights> Blockwise4BitWeight::int8_gemm_weights() const {
  if (!q8_activations_apply(n_in(), block_size_)) return std::nullopt;
  Int8GemmWeights w;
  w.layout = Int8GemmWeights::Layout::kFourBit;
  w.data = packed_.data();
  w.n_out = n_out();
  w.n_in = n_in();
  w.code_values = code_values_i8_.data();
  w.block_size = block_size_;
  w.block_absmax = [this](int64_t first, int64_t count, float* out) { scales_.dequantize(first, count, out); };
  return w;
}

void Blockwise4BitWeight::dequantize_tile(int64_t row0, int64_t num_rows, int64_t col0, int64_t num_cols, float* out,
                                          int64_t ld) const {
  const float* lut = code_values_->data();
  auto* dequantize = has_avx2_fma_f16c() ? &avx2::dequantize_4bit : &generic::dequantize_4bit;
  for (int64_t r = 0; r < num_rows; ++r) {
    const int64_t first_value = (row0 + r) * n_in() + col0;
    // One call per run of values in the same block (starts are even: n_in, col0 and block_size are).
    for (int64_t i = 0; i < num_cols;) {
      const int64_t block = (first_value + i) / block_size_;
      const int64_t run = std::min(num_cols - i, (block + 1) * block_size_ - (first_value + i));
      dequantize(packed_.data() + (first_value + i) / 2, run, lut, scales_.scale(block), out + r * ld + i);
      i += run;
    }
  }
}

std::unique_ptr<Blockwise4BitWeight> quantize_blockwise_4bit(WeightFormat format, const float* w, int64_t n_out,
                                                             int64_t n_in, int64_t block_size, bool double_quant,
                                                             int nested_block_size) {
  check_even_sizes(n_in, block_size);
  code_values_4bit(format);  // rejects a format that is not 4-bit
  const int64_t num_values = n_out * n_in;
  const int64_t num_blocks = num_blocks_of(num_values, block_size);
  std::vector<uint8_t> packed(static_cast<size_t>(num_values / 2));
  std::vector<float> absmax(static_cast<size_t>(num_blocks));
  parallel_for(num_blocks, 64, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t first = b * block_size;
      const int64_t last = std::min(num_values, first + block_size);
      float block_max = 0.0f;
      for (int64_t i = first; i < last; ++i) block_max = std::max(block_max, std::fabs(w[i]));
      absmax[b] = block_max;
      // bnb scales by the reciprocal of absmax.
      const float inverse = block_max > 0.0f ? 1.0f / block_max : 0.0f;
      for (int64_t i = first; i < last; i += 2) {
        const uint8_t even = quantize_code(format, std::clamp(w[i] * inverse, -1.0f, 1.0f));
        const uint8_t odd = quantize_code(format, std::clamp(w[i + 1] * inverse, -1.0f, 1.0f));
        packed[i / 2] = static_cast<uint8_t>(even << 4 | odd);
      }
    }
  });
  BlockScales scales =
      double_quant ? BlockScales::double_quantized(absmax, nested_block_size) : BlockScales::plain(std::move(absmax));
  return std::make_unique<Blockwise4BitWeight>(format, n_out, n_in, block_size, std::move(packed), std::move(scales));
}

}  // namespace pagedllm
