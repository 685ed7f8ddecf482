// The per-block absmax constants of a blockwise 4-bit weight, stored either as fp32 (32 bits per block) or
// double-quantized as bitsandbytes' quantize_4bit(compress_statistics=True) does (QLoRA §3):
//   offset        = mean(absmax)
//   codes[b]      = nearest index in the signed dynamic 8-bit map of (absmax[b] - offset) / nested_absmax[b / 256]
//   nested_absmax = max |absmax - offset| over each nested block of `nested_block_size` constants (fp32)
//   absmax[b]    ≈ nested_code[codes[b]] · nested_absmax[b / nested_block_size] + offset   (fp32 mul, then add)
// which costs 8 + 32 / nested_block_size bits per block instead of 32.
//
// Thread-safety: immutable after construction; const methods may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace pagedllm {

class BlockScales {
 public:
  BlockScales() = default;

  // Plain fp32 constants, one per block.
  static BlockScales plain(std::vector<float> absmax);

  // Double quantization of `absmax` with the signed dynamic map (bnb's defaults: nested_block_size 256).
  static BlockScales double_quantized(const std::vector<float>& absmax, int nested_block_size);

  // Already double-quantized constants (a bitsandbytes checkpoint). nested_code must hold 256 ascending values.
  // Throws Error(kCorrupt) naming `what` when the sizes disagree.
  static BlockScales from_nested(std::vector<uint8_t> codes, std::vector<float> nested_absmax, int nested_block_size,
                                 float offset, std::vector<float> nested_code, const char* what);

  int64_t num_blocks() const { return num_blocks_; }
  bool is_nested() const { return is_nested_; }

  // The absmax of blocks [first, first + count) as fp32, exactly as every kernel and dequantize_row use them.
  void dequantize(int64_t first, int64_t count, float* out) const;
  float scale(int64_t block) const;

  // Storage per matrix: the constants themselves; the 256-entry dynamic map is shared by all matrices and the
  // 4-byte offset is counted.
  size_t num_bytes() const;

  // Parts, for serialization in bitsandbytes' layout.
  const std::vector<float>& absmax() const { return absmax_; }  // when !is_nested()
  const std::vector<uint8_t>& codes() const { return codes_; }  // when is_nested()
  const std::vector<float>& nested_absmax() const { return nested_absmax_; }
  int nested_block_size() const { return nested_block_size_; }
  float offset() const { return offset_; }
  const std::vector<float>& nested_code() const { return *nested_code_; }

 private:
  int64_t num_blocks_ = 0;
  bool is_nested_ = false;
  std::vector<float> absmax_;
  std::vector<uint8_t> codes_;
  std::vector<float> nested_absmax_;
  int nested_block_size_ = 256;
  float offset_ = 0.0f;
  std::shared_ptr<const std::vector<float>> nested_code_;
};

}  // namespace pagedllm
