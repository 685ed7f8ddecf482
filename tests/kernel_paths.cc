// Prints which kernel paths this CPU runs: `kernel_paths` lists every path; `kernel_paths PATH` prints that path's
// line and exits 0 when it is on, 77 (ctest's SKIP_RETURN_CODE) when it is off, 2 for an unknown name.
// PAGEDLLM_NO_AVX512=1 turns the AVX-512 paths off here exactly as it does in the kernels (kernels/cpu_features.h).
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "kernels/cpu_features.h"

namespace {

struct KernelPath {
  const char* name;
  const char* requires_what;
  bool is_on;
};

void print(const KernelPath& p) {
  std::printf("kernel path %-12s (%s): %s\n", p.name, p.requires_what, p.is_on ? "on" : "off");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pagedllm;
  const KernelPath paths[] = {
      {"portable", "any CPU", true},
      {"avx2", "AVX2+FMA+F16C", has_avx2_fma_f16c()},
      {"avx512", "AVX-512 F/CD/BW/DQ/VL, not PAGEDLLM_NO_AVX512=1", has_avx512()},
      {"avx512_vnni", "the avx512 path and AVX-512 VNNI", has_avx512_vnni()},
      {"amx_bf16", "AMX-BF16 tiles granted and probed, not PAGEDLLM_NO_AMX=1", has_amx_bf16()},
      {"amx_int8", "AMX-INT8 tiles granted and probed, not PAGEDLLM_NO_AMX=1", has_amx_int8()},
  };
  const char* no_avx512 = std::getenv("PAGEDLLM_NO_AVX512");
  if (argc < 2) {
    for (const KernelPath& p : paths) print(p);
    if (no_avx512 != nullptr) std::printf("PAGEDLLM_NO_AVX512=%s\n", no_avx512);
    std::printf("%s\n", amx_status());
    return 0;
  }
  for (const KernelPath& p : paths) {
    if (std::string_view(argv[1]) == p.name) {
      print(p);
      return p.is_on ? 0 : 77;
    }
  }
  std::fprintf(stderr, "kernel_paths: unknown path '%s' (portable, avx2, avx512, avx512_vnni, amx_bf16, amx_int8)\n",
               argv[1]);
  return 2;
}
