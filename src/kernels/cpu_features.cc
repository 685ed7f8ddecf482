#include "kernels/cpu_features.h"

#include <cstdlib>
#include <string_view>

namespace pagedllm {
namespace {

bool env_is_one(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string_view(value) == "1";
}

}  // namespace

bool has_avx2_fma_f16c() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                                __builtin_cpu_supports("f16c");
  return supported;
#else
  return false;
#endif
}

bool has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool supported = [] {
    if (env_is_one("PAGEDLLM_NO_AVX512")) return false;
    return has_avx2_fma_f16c() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return supported;
#else
  return false;
#endif
}

bool has_avx512_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool supported = has_avx512() && __builtin_cpu_supports("avx512vnni");
  return supported;
#else
  return false;
#endif
}

bool has_avx512_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool supported = has_avx512() && !env_is_one("PAGEDLLM_NO_BF16") && __builtin_cpu_supports("avx512bf16");
  return supported;
#else
  return false;
#endif
}

}  // namespace pagedllm
