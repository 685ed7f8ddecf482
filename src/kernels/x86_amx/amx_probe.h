// What it takes before a tile instruction may run, checked step by step (cpu_features.cc decides has_amx_bf16() /
// has_amx_int8() from these, once per process):
//   1. CPUID leaf 7 EDX: AMX-BF16 (bit 22), AMX-TILE (bit 24), AMX-INT8 (bit 25);
//   2. the OS enables the tile state: XCR0 (xgetbv 0) bits 17 XTILECFG and 18 XTILEDATA, read only if CPUID.1 ECX
//      bit 27 (OSXSAVE) says xgetbv exists;
//   3. Linux (5.16+) grants this process the XTILEDATA state: arch_prctl(ARCH_REQ_XCOMP_PERM 0x1023, 18), without
//      which the first tile data instruction raises SIGILL; the grant covers every thread of the process, present
//      and future (https://docs.kernel.org/arch/x86/xstate.html, tools/testing/selftests/x86/amx.c);
//   4. a tiny product on the tiles runs without a signal and matches the scalar result (some VMs pass 1-3 and still
//      fault: llama.cpp's AMX path dies with SIGILL there).
#pragma once

namespace pagedllm::amx {

struct AmxCpuid {
  bool has_amx_tile = false;
  bool has_amx_bf16 = false;
  bool has_amx_int8 = false;
  bool os_enables_tiles = false;  // XCR0 bits 17 and 18
};

AmxCpuid read_amx_cpuid();

// Returns 0 when granted, else the errno of arch_prctl (EINVAL from kernels before 5.16 or without AMX).
int request_tile_data_permission();

enum class ProbeResult { kCorrect, kFaulted, kWrong };

// Runs a 16 × 16 × 32 tdpbf16ps product (int8: 16 × 16 × 64 tdpbusd) through the hardware GEMM with SIGILL and
// SIGSEGV caught (sigsetjmp / siglongjmp; a signal on another thread meanwhile goes to the handler that was there
// before), compares it with the exact scalar result, and releases the tiles. Safe on any x86-64 CPU: without AMX
// the first tile instruction is undefined and the answer is kFaulted. Calls are serialized by the caller.
ProbeResult probe_tile_product(bool int8);

}  // namespace pagedllm::amx
