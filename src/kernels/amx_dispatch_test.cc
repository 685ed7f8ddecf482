// How the process decides on AMX (cpu_features.h, x86_amx/amx_probe.h) and how the tile GEMMs behave under threads:
// on a CPU without AMX the permission is refused and the probe product faults with SIGILL, caught, leaving the
// signal handlers as they were and gemm_bf16 on AVX512-BF16; PAGEDLLM_NO_AMX=1 (the kernels_tests_no_amx ctest run)
// turns AMX off; thousands of mixed calls from pool and foreign threads configure every thread's tiles and leave no
// thread behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kernels/amx/amx_gemm.h"
#include "kernels/amx/emulated_tiles.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "kernels/x86_amx/amx_probe.h"
#include "util/half.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

bool no_amx_requested() {
  const char* value = std::getenv("PAGEDLLM_NO_AMX");
  return value != nullptr && std::string_view(value) == "1";
}

TEST(AmxDispatch, NoAmxCpuRefusesCleanly) {
  const amx::AmxCpuid cpuid = amx::read_amx_cpuid();
  if (cpuid.has_amx_tile) GTEST_SKIP() << "this CPU reports AMX-TILE";
  EXPECT_FALSE(has_amx_bf16());
  EXPECT_FALSE(has_amx_int8());
  EXPECT_EQ(std::string(amx_status()), no_amx_requested() ? "AMX not used: disabled by PAGEDLLM_NO_AMX=1"
                                                           : "AMX not used: the CPU does not report AMX-TILE");
  EXPECT_NE(amx::request_tile_data_permission(), 0);
}

// What llama.cpp's AMX path does not survive: a tile instruction where it is undefined. The probe catches the
// SIGILL and puts the previous handlers back.
TEST(AmxDispatch, ProbeProductFaultsWithoutAmxAndRestoresHandlers) {
  if (amx::read_amx_cpuid().has_amx_tile) GTEST_SKIP() << "this CPU reports AMX-TILE";
  struct sigaction before_ill, before_segv, after_ill, after_segv;
  sigaction(SIGILL, nullptr, &before_ill);
  sigaction(SIGSEGV, nullptr, &before_segv);
  EXPECT_EQ(amx::probe_tile_product(/*int8=*/false), amx::ProbeResult::kFaulted);
  EXPECT_EQ(amx::probe_tile_product(/*int8=*/true), amx::ProbeResult::kFaulted);
  sigaction(SIGILL, nullptr, &after_ill);
  sigaction(SIGSEGV, nullptr, &after_segv);
  EXPECT_EQ(after_ill.sa_handler, before_ill.sa_handler);
  EXPECT_EQ(after_segv.sa_handler, before_segv.sa_handler);
}

TEST(AmxDispatch, ProbeProductIsExactWithAmx) {
  if (!has_amx_bf16() || !has_amx_int8()) GTEST_SKIP() << amx_status();
  EXPECT_EQ(amx::probe_tile_product(/*int8=*/false), amx::ProbeResult::kCorrect);
  EXPECT_EQ(amx::probe_tile_product(/*int8=*/true), amx::ProbeResult::kCorrect);
  EXPECT_EQ(std::string(amx_status()), "AMX tiles: AMX-BF16 enabled, AMX-INT8 enabled");
}

TEST(AmxDispatch, NoAmxEnvironmentTurnsTilesOff) {
  if (!no_amx_requested()) GTEST_SKIP() << "the kernels_tests_no_amx ctest run sets PAGEDLLM_NO_AMX=1";
  EXPECT_FALSE(has_amx_bf16());
  EXPECT_FALSE(has_amx_int8());
  EXPECT_EQ(std::string(amx_status()), "AMX not used: disabled by PAGEDLLM_NO_AMX=1");
}

// Without AMX the many-row bf16 products still run (AVX512-BF16), exactly on exact data.
TEST(AmxDispatch, GemmBf16RunsWithoutAmx) {
  if (has_amx_bf16() || !has_avx512_bf16()) GTEST_SKIP() << "needs AVX512-BF16 without AMX-BF16";
  std::vector<float> a(64 * 96, 0.25f), b(80 * 96, 0.5f), c(64 * 80, -1.0f);
  ASSERT_TRUE(gemm_bf16(WeightFormat::kF32, true, 64, 80, 96, a.data(), 96, b.data(), 96, 0.0f, c.data(), 80));
  for (float v : c) ASSERT_EQ(v, 0.125f * 96);
}

// With AMX, gemm_bf16 runs products of 16 rows or more on the tiles: the same bits as the AMX kernel called directly
// (the AVX512-BF16 kernel sums in another order). The Bf16Gemm tests check those products against the references.
TEST(AmxDispatch, GemmBf16TakesTheTilesWithAmx) {
  if (!has_amx_bf16()) GTEST_SKIP() << amx_status();
  const int64_t m = 40, n = 48, k = 300;
  std::vector<float> a(m * k), b(n * k), direct(m * n), dispatched(m * n);
  for (int64_t i = 0; i < m * k; ++i) a[i] = std::sin(static_cast<float>(i));
  for (int64_t i = 0; i < n * k; ++i) b[i] = std::cos(static_cast<float>(i));
  amx::gemm_bf16(amx::TileBackend::kHardware, WeightFormat::kF32, true, m, n, k, a.data(), k, b.data(), k, 0.0f,
                 direct.data(), n);
  ASSERT_TRUE(gemm_bf16_serial(WeightFormat::kF32, true, m, n, k, a.data(), k, b.data(), k, 0.0f, dispatched.data(),
                               n));
  EXPECT_EQ(dispatched, direct);
}

// Someone else released this thread's tiles (tilerelease, another library): the next product loads the
// configuration again instead of faulting.
TEST(AmxDispatch, ProductReconfiguresReleasedTiles) {
  std::vector<float> a(20 * 40, 1.0f), b(40 * 24, 2.0f), c(20 * 24);
  amx::gemm_bf16(amx::TileBackend::kEmulated, WeightFormat::kF32, false, 20, 24, 40, a.data(), 40, b.data(), 24, 0.0f,
                 c.data(), 24);
  amx::EmulatedTiles::release();
  amx::gemm_bf16(amx::TileBackend::kEmulated, WeightFormat::kF32, false, 20, 24, 40, a.data(), 40, b.data(), 24, 0.0f,
                 c.data(), 24);
  for (float v : c) ASSERT_EQ(v, 80.0f);
}

int64_t thread_count() {
  int64_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++count;
  return count;
}

// One call of a mix: emulated bf16 or int8 tiles (whole-depth or per-group, whose tile configurations differ), or the
// gemm_bf16 dispatch (AMX, AVX512-BF16 or a refusal), with results exact on exact data. Returns false on a wrong
// result.
bool mixed_call(int call) {
  const int64_t m = 1 + call % 40, n = 1 + (call * 7) % 50, k = 1 + (call * 13) % 90;
  switch (call % 4) {
    case 0: {
      std::vector<float> a(m * k, 0.25f), c(m * n, -7.0f);
      std::vector<uint16_t> b(n * k, f32_to_bf16(0.5f));
      amx::gemm_bf16(amx::TileBackend::kEmulated, WeightFormat::kBF16, true, m, n, k, a.data(), k, b.data(), k, 0.0f,
                     c.data(), n);
      return c[m * n - 1] == 0.125f * static_cast<float>(k);
    }
    case 1: {
      const int64_t k_packed = 64 * (1 + call % 3);
      std::vector<uint8_t> a(m * k_packed, 3), packed_a(amx::packed_u8_a_bytes(m, k_packed));
      std::vector<int8_t> b(n * k_packed, -2), packed_b(amx::packed_s8_b_bytes(n, k_packed));
      std::vector<int32_t> c(m * n, 5);
      amx::pack_u8_a(m, k_packed, a.data(), k_packed, packed_a.data());
      amx::pack_s8_b(n, k_packed, b.data(), k_packed, packed_b.data());
      amx::gemm_u8s8(amx::TileBackend::kEmulated, m, n, k_packed, 0, k_packed, packed_a.data(), packed_b.data(), true,
                     c.data(), n);
      return c[m * n - 1] == 5 - 6 * k_packed;
    }
    case 2: {  // a group tile: levels 3 times bytes 130 started at 0, 1 + call % 3 groups of steps 0.5 and xd 0.25
      const int num_rows = static_cast<int>(1 + call % 16), num_cols = static_cast<int>(1 + call % 32);
      const int64_t groups = 1 + call % 3;
      std::vector<uint8_t> panel(groups * 8 * 128, 130);
      std::vector<float> steps(groups * 32, 0.5f), xd(num_rows * groups, 0.25f), c(num_rows * num_cols, -1.0f);
      std::vector<int8_t> levels(num_rows * groups * 32, 3);
      std::vector<int32_t> starts(num_rows * groups, 0);
      amx::gemm_s8u8_groups(amx::TileBackend::kEmulated, num_rows, panel.data(), steps.data(), groups, levels.data(),
                            groups * 32, xd.data(), starts.data(), groups, num_cols, c.data(), num_cols, true);
      return c[num_rows * num_cols - 1] == -1.0f + 0.125f * 32 * 3 * 130 * static_cast<float>(groups);
    }
    default: {
      std::vector<float> a(m * k, 0.25f), b(k * n, 0.5f), c(m * n, -7.0f);
      if (!gemm_bf16_serial(WeightFormat::kF32, false, m, n, k, a.data(), k, b.data(), n, 0.0f, c.data(), n)) {
        return !has_avx512_bf16();
      }
      return c[m * n - 1] == 0.125f * static_cast<float>(k);
    }
  }
}

TEST(AmxDispatch, ThousandsOfMixedCallsFromPoolAndForeignThreadsLeakNoThreads) {
  // Start the pool first (a test run on its own starts with none): only threads the calls leave behind would count.
  parallel_for(1024, 1, [](int64_t, int64_t) {});
  const int64_t threads_before = thread_count();
  std::atomic<int> wrong{0};
  parallel_for(2000, 1, [&](int64_t begin, int64_t end) {
    for (int64_t call = begin; call < end; ++call) {
      if (!mixed_call(static_cast<int>(call))) wrong.fetch_add(1);
    }
  });
  for (int round = 0; round < 25; ++round) {  // foreign threads: each configures its own tiles on its first call
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, round, t] {
        for (int call = 0; call < 10; ++call) {
          if (!mixed_call(round * 40 + t * 10 + call)) wrong.fetch_add(1);
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  std::vector<float> a(70 * 260, 0.25f), b(300 * 260, 0.5f), c(70 * 300);
  if (has_avx512_bf16()) {  // the pool form of the dispatch, its column slices on pool threads
    ASSERT_TRUE(gemm_bf16(WeightFormat::kF32, true, 70, 300, 260, a.data(), 260, b.data(), 260, 0.0f, c.data(), 300));
    for (float v : c) ASSERT_EQ(v, 0.125f * 260);
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(thread_count(), threads_before);
}

}  // namespace
}  // namespace pagedllm
