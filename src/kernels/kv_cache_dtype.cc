#include "kernels/kv_cache_dtype.h"

#include "util/error.h"

namespace pagedllm {

void check_kv_cache_dtype_name(const std::string& name) {
  if (name == "auto" || name == "float32" || name == "bfloat16" || name == "fp8" || name == "fp8_e4m3" ||
      name == "fp8_e5m2") {
    return;
  }
  throw_error(ErrorKind::kInvalidArgument, "--kv-cache-dtype must be one of {}, got '{}'", kKVCacheDTypeChoices, name);
}

KVCacheDType resolve_kv_cache_dtype(const std::string& name, bool weights_are_fp32) {
  check_kv_cache_dtype_name(name);
  if (name == "auto") return weights_are_fp32 ? KVCacheDType::kFloat32 : KVCacheDType::kBFloat16;
  if (name == "float32") return KVCacheDType::kFloat32;
  if (name == "bfloat16") return KVCacheDType::kBFloat16;
  if (name == "fp8_e5m2") return KVCacheDType::kFp8E5M2;
  return KVCacheDType::kFp8E4M3;
}

const char* kv_cache_dtype_name(KVCacheDType dtype) {
  switch (dtype) {
    case KVCacheDType::kFloat32: return "float32";
    case KVCacheDType::kBFloat16: return "bfloat16";
    case KVCacheDType::kFp8E4M3: return "fp8_e4m3";
    case KVCacheDType::kFp8E5M2: return "fp8_e5m2";
  }
  return "unknown";
}

size_t kv_cache_dtype_size(KVCacheDType dtype) {
  switch (dtype) {
    case KVCacheDType::kFloat32: return 4;
    case KVCacheDType::kBFloat16: return 2;
    case KVCacheDType::kFp8E4M3:
    case KVCacheDType::kFp8E5M2: return 1;
  }
  return 4;
}

}  // namespace pagedllm
