// Run-time CPU feature detection: the x86_avx2/ kernels may only be entered when has_avx2_fma_f16c() is true.
#pragma once

namespace pagedllm {

// True when the CPU executes AVX2, FMA3 and F16C instructions (the -mavx2 -mfma -mf16c translation units).
// Computed once; cheap to call on every kernel dispatch.
bool has_avx2_fma_f16c();

}  // namespace pagedllm
