#include "kernels/x86_amx/amx_probe.h"

#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "kernels/amx/amx_gemm.h"
#include "kernels/x86_amx/hardware_gemm.h"
#include "kernels/x86_amx/hardware_tiles.h"

namespace pagedllm::amx {
namespace {

constexpr long kArchReqXcompPerm = 0x1023;  // arch/x86/include/uapi/asm/prctl.h
constexpr long kXfeatureXtiledata = 18;

uint64_t read_xcr0() {
  uint32_t eax, edx;
  asm volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return eax | (static_cast<uint64_t>(edx) << 32);
}

// The probe's escape: the handler jumps back only on the probing thread (a thread id is async-signal-safe to
// compare; thread_local storage in a shared object is not to read from a handler).
sigjmp_buf probe_jump;
std::atomic<long> probing_thread{0};
struct sigaction saved_sigill, saved_sigsegv;

extern "C" void on_probe_signal(int signal) {
  if (probing_thread.load() == syscall(SYS_gettid)) siglongjmp(probe_jump, signal);
  // Not the probe's: put back the previous handler; returning re-runs the faulting instruction under it.
  sigaction(signal, signal == SIGILL ? &saved_sigill : &saved_sigsegv, nullptr);
}

bool bf16_product_is_exact() {
  constexpr int64_t kM = 16, kN = 16, kK = 32;
  // Small integers: every product and partial sum is exact in fp32, whatever the order of summation.
  // Static arrays: a siglongjmp out of the product must skip no destructor.
  static float a[kM * kK], b[kN * kK], c[kM * kN];
  for (int64_t i = 0; i < kM * kK; ++i) a[i] = static_cast<float>((3 * i + 1) % 7 - 3);
  for (int64_t i = 0; i < kN * kK; ++i) b[i] = static_cast<float>((5 * i + 2) % 9 - 4);
  hardware::gemm_bf16(scalar_bf16_packers(), WeightFormat::kF32, /*trans_b=*/true, kM, kN, kK, a, kK, b, kK, 0.0f, c,
                      kN);  // the scalar packing: the probe runs before anything is known of the CPU's vector units
  for (int64_t i = 0; i < kM; ++i) {
    for (int64_t j = 0; j < kN; ++j) {
      float expected = 0.0f;
      for (int64_t p = 0; p < kK; ++p) expected += a[i * kK + p] * b[j * kK + p];
      if (c[i * kN + j] != expected) return false;
    }
  }
  return true;
}

bool int8_product_is_exact() {
  constexpr int64_t kM = 16, kN = 16, kK = 64;
  static uint8_t a[kM * kK], packed_a[kM * kK];
  static int8_t b[kN * kK], packed_b[kN * kK];
  static int32_t c[kM * kN];
  for (int64_t i = 0; i < kM * kK; ++i) a[i] = static_cast<uint8_t>((37 * i + 11) % 256);
  for (int64_t i = 0; i < kN * kK; ++i) b[i] = static_cast<int8_t>((53 * i + 7) % 256 - 128);
  pack_u8_a(kM, kK, a, kK, packed_a);
  pack_s8_b(kN, kK, b, kK, packed_b);
  hardware::gemm_u8s8(kM, kN, kK, 0, kK, packed_a, packed_b, false, c, kN);
  for (int64_t i = 0; i < kM; ++i) {
    for (int64_t j = 0; j < kN; ++j) {
      int32_t expected = 0;
      for (int64_t p = 0; p < kK; ++p) expected += int32_t{a[i * kK + p]} * b[j * kK + p];
      if (c[i * kN + j] != expected) return false;
    }
  }
  return true;
}

}  // namespace

AmxCpuid read_amx_cpuid() {
  AmxCpuid out;
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return out;
  out.has_amx_bf16 = (edx >> 22) & 1;
  out.has_amx_tile = (edx >> 24) & 1;
  out.has_amx_int8 = (edx >> 25) & 1;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && ((ecx >> 27) & 1) != 0) {
    const uint64_t tile_state = (uint64_t{1} << 17) | (uint64_t{1} << 18);
    out.os_enables_tiles = (read_xcr0() & tile_state) == tile_state;
  }
  return out;
}

int request_tile_data_permission() {
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0) return 0;
  return errno;
}

ProbeResult probe_tile_product(bool int8) {
  struct sigaction ours = {};
  ours.sa_handler = on_probe_signal;
  sigemptyset(&ours.sa_mask);
  sigaction(SIGILL, &ours, &saved_sigill);
  sigaction(SIGSEGV, &ours, &saved_sigsegv);
  static volatile bool exact;  // static: written between sigsetjmp and a possible siglongjmp
  exact = false;
  probing_thread.store(syscall(SYS_gettid));
  const int signal = sigsetjmp(probe_jump, /*savemask=*/1);
  if (signal == 0) {
    exact = int8 ? int8_product_is_exact() : bf16_product_is_exact();
    HardwareTiles::release();  // the probing thread keeps no tile state; GEMMs reload their configuration
  }
  probing_thread.store(0);
  sigaction(SIGILL, &saved_sigill, nullptr);
  sigaction(SIGSEGV, &saved_sigsegv, nullptr);
  if (signal != 0) return ProbeResult::kFaulted;
  return exact ? ProbeResult::kCorrect : ProbeResult::kWrong;
}

}  // namespace pagedllm::amx
