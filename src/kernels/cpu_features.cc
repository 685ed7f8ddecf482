#include "kernels/cpu_features.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "kernels/x86_amx/amx_probe.h"

namespace pagedllm {
namespace {

bool env_is_one(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string_view(value) == "1";
}

struct AmxSupport {
  bool bf16 = false;
  bool int8 = false;
  std::string status;
};

AmxSupport decide_amx() {
  AmxSupport out;
  if (env_is_one("PAGEDLLM_NO_AMX")) {
    out.status = "AMX not used: disabled by PAGEDLLM_NO_AMX=1";
    return out;
  }
#if defined(__x86_64__) && defined(__linux__)
  const amx::AmxCpuid cpuid = amx::read_amx_cpuid();
  if (!cpuid.has_amx_tile) {
    out.status = "AMX not used: the CPU does not report AMX-TILE";
    return out;
  }
  if (!cpuid.os_enables_tiles) {
    out.status = "AMX not used: the OS has not enabled the tile state (XCR0 bits 17-18)";
  } else if (const int error = amx::request_tile_data_permission(); error != 0) {
    out.status = std::string("AMX not used: Linux refused the tile data permission (arch_prctl ARCH_REQ_XCOMP_PERM: ") +
                 std::strerror(error) + ")";
  } else {
    const auto probe = [](bool has_it, bool int8, bool& enabled, const char* name) -> std::string {
      if (!has_it) return std::string(name) + " absent";
      switch (amx::probe_tile_product(int8)) {
        case amx::ProbeResult::kCorrect: enabled = true; return std::string(name) + " enabled";
        case amx::ProbeResult::kFaulted: return std::string(name) + " not used (the probe product raised a signal)";
        case amx::ProbeResult::kWrong: return std::string(name) + " not used (the probe product was wrong)";
      }
      return {};
    };
    out.status = "AMX tiles: " + probe(cpuid.has_amx_bf16, false, out.bf16, "AMX-BF16") + ", " +
                 probe(cpuid.has_amx_int8, true, out.int8, "AMX-INT8");
  }
  std::fprintf(stderr, "pagedllm: %s\n", out.status.c_str());
#else
  out.status = "AMX not used: not x86-64 Linux";
#endif
  return out;
}

const AmxSupport& amx_support() {
  static const AmxSupport support = decide_amx();
  return support;
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

bool has_amx_bf16() {
  static const bool supported = has_avx512_bf16() && amx_support().bf16;
  return supported;
}

bool has_amx_int8() {
  static const bool supported = has_avx512() && amx_support().int8;
  return supported;
}

const char* amx_status() { return amx_support().status.c_str(); }

}  // namespace pagedllm
