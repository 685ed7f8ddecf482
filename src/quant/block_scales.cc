#include "quant/block_scales.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu_features.h"
#include "quant/codebooks.h"
#include "quant/x86_avx512/nested_scales.h"
#include "util/error.h"

namespace pagedllm {
namespace {

std::shared_ptr<const std::vector<float>> shared_dynamic_map() {
  static const auto map =
      std::make_shared<const std::vector<float>>(dynamic_map_signed().begin(), dynamic_map_signed().end());
  return map;
}

}  // namespace

BlockScales BlockScales::plain(std::vector<float> absmax) {
  BlockScales s;
  s.num_blocks_ = static_cast<int64_t>(absmax.size());
  s.absmax_ = std::move(absmax);
  return s;
}

BlockScales BlockScales::double_quantized(const std::vector<float>& absmax, int nested_block_size) {
  PAGEDLLM_CHECK(nested_block_size > 0);
  BlockScales s;
  s.num_blocks_ = static_cast<int64_t>(absmax.size());
  s.is_nested_ = true;
  s.nested_block_size_ = nested_block_size;
  s.nested_code_ = shared_dynamic_map();
  // bnb takes absmax.mean() in fp32; the mean here is accumulated in double and rounded once.
  double sum = 0.0;
  for (float a : absmax) sum += a;
  s.offset_ = absmax.empty() ? 0.0f : static_cast<float>(sum / static_cast<double>(absmax.size()));

  const std::vector<float>& code = *s.nested_code_;
  const int64_t num_nested = (s.num_blocks_ + nested_block_size - 1) / nested_block_size;
  s.codes_.resize(absmax.size());
  s.nested_absmax_.resize(num_nested);
  for (int64_t nb = 0; nb < num_nested; ++nb) {
    const int64_t begin = nb * nested_block_size;
    const int64_t end = std::min<int64_t>(s.num_blocks_, begin + nested_block_size);
    float nested_max = 0.0f;
    for (int64_t b = begin; b < end; ++b) nested_max = std::max(nested_max, std::fabs(absmax[b] - s.offset_));
    s.nested_absmax_[nb] = nested_max;
    // All-equal constants: bnb would divide by zero; every code then names the map's exact 0 (index 127).
    const float inverse = nested_max > 0.0f ? 1.0f / nested_max : 0.0f;
    for (int64_t b = begin; b < end; ++b) {
      const float scaled = std::clamp((absmax[b] - s.offset_) * inverse, -1.0f, 1.0f);
      s.codes_[b] = nearest_code_index(code.data(), 256, scaled);
    }
  }
  return s;
}

BlockScales BlockScales::from_nested(std::vector<uint8_t> codes, std::vector<float> nested_absmax,
                                     int nested_block_size, float offset, std::vector<float> nested_code,
                                     const char* what) {
  if (nested_block_size <= 0)
    throw_error(ErrorKind::kCorrupt, "{}: nested_blocksize {} must be positive", what, nested_block_size);
  if (nested_code.size() != 256) {
    throw_error(ErrorKind::kCorrupt, "{}: nested_quant_map has {} values, expected 256", what, nested_code.size());
  }
  const size_t expected_nested = (codes.size() + nested_block_size - 1) / nested_block_size;
  if (nested_absmax.size() != expected_nested) {
    throw_error(ErrorKind::kCorrupt, "{}: nested_absmax has {} values, expected {} for {} blocks of {}", what,
                nested_absmax.size(), expected_nested, codes.size(), nested_block_size);
  }
  BlockScales s;
  s.num_blocks_ = static_cast<int64_t>(codes.size());
  s.is_nested_ = true;
  s.codes_ = std::move(codes);
  s.nested_absmax_ = std::move(nested_absmax);
  s.nested_block_size_ = nested_block_size;
  s.offset_ = offset;
  const auto& shared = shared_dynamic_map();
  s.nested_code_ = nested_code == *shared ? shared : std::make_shared<const std::vector<float>>(std::move(nested_code));
  return s;
}

float BlockScales::scale(int64_t block) const {
  if (!is_nested_) return absmax_[block];
  // This translation unit is built without FMA, so the multiply and the add round separately, as bnb's
  // dequantize_blockwise followed by `absmax += offset` does.
  return (*nested_code_)[codes_[block]] * nested_absmax_[block / nested_block_size_] + offset_;
}

void BlockScales::dequantize(int64_t first, int64_t count, float* out) const {
  if (!is_nested_) {
    std::copy(absmax_.begin() + first, absmax_.begin() + first + count, out);
    return;
  }
  // Same arithmetic as scale(), one run per nested block instead of a division per constant (decode matmuls run
  // this for every 64 rows: 10% of NF4+DQ single-stream decode before it was vectorized).
  const float* code = nested_code_->data();
  const uint8_t* codes = codes_.data();
  const bool vectorized = has_avx512();
  int64_t i = first;
  while (i < first + count) {
    const int64_t nested = i / nested_block_size_;
    const int64_t run_end = std::min(first + count, (nested + 1) * nested_block_size_);
    const float nested_max = nested_absmax_[nested];
    const float offset = offset_;
    if (vectorized) {
      avx512::decode_nested_scales(codes + i, code, nested_max, offset, run_end - i, out + (i - first));
      i = run_end;
    }
    for (; i < run_end; ++i) out[i - first] = code[codes[i]] * nested_max + offset;
  }
}

size_t BlockScales::num_bytes() const {
  if (!is_nested_) return absmax_.size() * sizeof(float);
  return codes_.size() + nested_absmax_.size() * sizeof(float) + sizeof(float);
}

}  // namespace pagedllm
