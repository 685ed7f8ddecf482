// The element type of the paged KV cache (vLLM's --kv-cache-dtype). Keys and values are written in it and widened
// back to fp32 when attention reads them; arithmetic stays fp32 whatever the storage.
#pragma once

#include <cstddef>
#include <string>

namespace pagedllm {

enum class KVCacheDType {
  kFloat32,
  kBFloat16,  // round-to-nearest-even from fp32
  kFp8E4M3,   // OCP E4M3 ("fn": no infinities, max 448), value / scale, saturating round-to-nearest-even
  kFp8E5M2,   // OCP E5M2 (max finite 57344), value / scale, saturating round-to-nearest-even
};

// The names --kv-cache-dtype accepts, for usage messages.
inline constexpr const char* kKVCacheDTypeChoices = "auto, float32, bfloat16, fp8, fp8_e4m3, fp8_e5m2";

// Throws Error(kInvalidArgument) naming the allowed values unless `name` is one of kKVCacheDTypeChoices.
void check_kv_cache_dtype_name(const std::string& name);

// The dtype `name` stands for. "auto" is bfloat16 for 16-bit and quantized weights and float32 for fp32 weights
// (`weights_are_fp32`), so an fp32 checkpoint keeps its exact outputs; "fp8" is fp8_e4m3 as in vLLM.
// Throws as check_kv_cache_dtype_name.
KVCacheDType resolve_kv_cache_dtype(const std::string& name, bool weights_are_fp32);

// "float32", "bfloat16", "fp8_e4m3", "fp8_e5m2".
const char* kv_cache_dtype_name(KVCacheDType dtype);

// Bytes of one stored element: 4, 2, 1, 1.
size_t kv_cache_dtype_size(KVCacheDType dtype);

}  // namespace pagedllm
