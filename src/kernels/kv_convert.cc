#include "kernels/kv_convert.h"

#include <cstring>

#include "kernels/fp8.h"
#include "util/half.h"

namespace pagedllm {

void f32_to_kv(const float* src, void* dst, int64_t n, KVCacheDType dtype, float scale) {
  switch (dtype) {
    case KVCacheDType::kFloat32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case KVCacheDType::kBFloat16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(src[i]);
      return;
    }
    case KVCacheDType::kFp8E4M3: {
      auto* out = static_cast<uint8_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = f32_to_fp8_e4m3(src[i] / scale);
      return;
    }
    case KVCacheDType::kFp8E5M2: {
      auto* out = static_cast<uint8_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = f32_to_fp8_e5m2(src[i] / scale);
      return;
    }
  }
}

void kv_to_f32(const void* src, float* dst, int64_t n, KVCacheDType dtype, float scale) {
  switch (dtype) {
    case KVCacheDType::kFloat32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case KVCacheDType::kBFloat16: {
      const auto* in = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(in[i]);
      return;
    }
    case KVCacheDType::kFp8E4M3:
    case KVCacheDType::kFp8E5M2: {
      const float* table = dtype == KVCacheDType::kFp8E4M3 ? fp8_e4m3_table() : fp8_e5m2_table();
      const auto* in = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = table[in[i]] * scale;
      return;
    }
  }
}

}  // namespace pagedllm
