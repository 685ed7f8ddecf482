// Run-time CPU feature detection: the x86_avx2/ kernels may only be entered when has_avx2_fma_f16c() is true.
#pragma once

namespace pagedllm {

// True when the CPU executes AVX2, FMA3 and F16C instructions (the -mavx2 -mfma -mf16c translation units).
// Computed once; cheap to call on every kernel dispatch.
bool has_avx2_fma_f16c();

// True when the CPU executes AVX-512 F, CD, BW, DQ and VL (what the x86_avx512/ translation units and OpenBLAS's
// SkylakeX kernels use) and has_avx2_fma_f16c(). Setting PAGEDLLM_NO_AVX512=1 in the environment makes it false
// (to compare paths).
bool has_avx512();

// has_avx512() and AVX-512 VNNI (the quantized decode kernels in src/quant/x86_avx512/).
bool has_avx512_vnni();

// has_avx512() and AVX512-BF16 (vdpbf16ps: the bf16 GEMM in kernels/x86_avx512_bf16/). PAGEDLLM_NO_BF16=1 makes it
// false, so the fp32 products run instead on a CPU that has it.
bool has_avx512_bf16();

// AMX tiles (Sapphire Rapids and later), usable by this process: the CPU reports AMX-TILE and AMX-BF16 /
// AMX-INT8, the OS enables the tile state, Linux grants the process the tile data permission, and a probe product
// on the tiles ran without a signal and matched the scalar result (x86_amx/amx_probe.h). Decided once, on the first
// call; PAGEDLLM_NO_AMX=1 makes both false without touching the tiles. has_amx_bf16() also needs has_avx512_bf16()
// (so PAGEDLLM_NO_BF16=1 and PAGEDLLM_NO_AVX512=1 turn it off too), has_amx_int8() has_avx512().
bool has_amx_bf16();
bool has_amx_int8();

// One line saying which way the AMX decision went and why (e.g. "AMX not used: the CPU does not report AMX-TILE").
// Where the CPU reports AMX the line is also written to stderr once, when the decision is made.
const char* amx_status();

}  // namespace pagedllm
