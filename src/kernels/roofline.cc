#include "kernels/roofline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include <unistd.h>

#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "kernels/x86_avx2/roofline_loops.h"
#include "kernels/x86_avx512/roofline_loops.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

constexpr int64_t kMinBufferFloats = int64_t{64} << 20;  // 256 MiB
constexpr int64_t kMaxBufferFloats = int64_t{1} << 30;   // 4 GiB
constexpr int64_t kChunkFloats = int64_t{256} << 10;  // 1 MiB per task
constexpr int64_t kFmaStepsPerTask = int64_t{1} << 16;  // 12.6 MFLOP: a fraction of a millisecond
// Best of many short runs: on a machine shared with other work, some runs get whole time slices.
constexpr int kBandwidthRepetitions = 10;
constexpr int kFmaRepetitions = 50;
constexpr int kSgemmRepetitions = 4;

// STREAM's rule: at least 4× the last-level cache, so that no window read is still cached. Virtual machines may
// report the host's whole L3 (508 MiB on the EPYC we run on): with the old fixed 256 MiB the "bandwidth" reached
// 107 GB/s on 2 cores, cache rather than DRAM.
int64_t buffer_floats() {
  const long llc_bytes = sysconf(_SC_LEVEL3_CACHE_SIZE);
  const int64_t wanted = llc_bytes > 0 ? 4 * static_cast<int64_t>(llc_bytes) / static_cast<int64_t>(sizeof(float)) : 0;
  const int64_t floats = std::clamp(wanted, kMinBufferFloats, kMaxBufferFloats);
  return floats / (int64_t{32} * kChunkFloats) * (int64_t{32} * kChunkFloats);  // whole 32 MiB windows
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

float stream_sum(const float* x, int64_t n) {
  if (has_avx2_fma_f16c()) return avx2::stream_sum(x, n);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  return sum;
}

// Portable twin of avx2::fma_chains: 12 scalar chains, 24 flops per step.
float fma_chains_portable(int64_t iterations) {
  float acc[12];
  for (int c = 0; c < 12; ++c) acc[c] = static_cast<float>(c) * 1e-3f;
  for (int64_t i = 0; i < iterations; ++i) {
    for (float& a : acc) a = std::fma(a, 0.999999f, 1e-7f);
  }
  float total = 0.0f;
  for (float a : acc) total += a;
  return total;
}

// The widest FMA the CPU has: the peak is the machine's, whichever width our own kernels use.
double flops_per_fma_step() { return has_avx512() ? 384.0 : has_avx2_fma_f16c() ? 192.0 : 24.0; }

float fma_chains(int64_t iterations) {
  if (has_avx512()) return avx512::fma_chains(iterations);
  return has_avx2_fma_f16c() ? avx2::fma_chains(iterations) : fma_chains_portable(iterations);
}

struct ReadBandwidth {
  double best_pass;    // GB/s
  double best_window;  // GB/s
};

// Best GB/s of whole passes over the buffer (STREAM's rule: the best of several trials, each reading all of an array
// of at least 4× the caches), on the pool or on the caller alone. Each pass is read as 32 MiB windows in turn, and the
// best window is kept too: on a shared host it catches bursts that a whole pass does not sustain (Zen 5 VM, 2 threads:
// best window 50-76 GB/s where the best pass read 47-68 and the median pass 45-55), so decode, which streams
// gigabytes per token, is judged against the pass.
ReadBandwidth read_bandwidth(const std::vector<float>& buffer, bool parallel) {
  constexpr int64_t kWindowChunks = 32;
  constexpr double kWindowBytes = static_cast<double>(kWindowChunks * kChunkFloats * sizeof(float));
  const int64_t num_windows = static_cast<int64_t>(buffer.size()) / (kWindowChunks * kChunkFloats);
  ReadBandwidth best{0.0, 0.0};
  std::atomic<float> sink{0.0f};
  // About 2.5 GiB read in all, whatever the buffer size (at least two passes).
  const int passes = std::max<int>(2, static_cast<int>(kBandwidthRepetitions * kMinBufferFloats /
                                                         static_cast<int64_t>(buffer.size())));
  for (int pass = 0; pass < passes; ++pass) {
    const auto pass_start = std::chrono::steady_clock::now();
    for (int64_t window = 0; window < num_windows; ++window) {
      const float* base = buffer.data() + window * kWindowChunks * kChunkFloats;
      auto body = [&](int64_t begin, int64_t end) {
        float sum = 0.0f;
        for (int64_t c = begin; c < end; ++c) sum += stream_sum(base + c * kChunkFloats, kChunkFloats);
        sink.store(sum, std::memory_order_relaxed);
      };
      const auto start = std::chrono::steady_clock::now();
      if (parallel) {
        parallel_for(kWindowChunks, 1, body);
      } else {
        body(0, kWindowChunks);
      }
      best.best_window = std::max(best.best_window, kWindowBytes / seconds_since(start) / 1e9);
    }
    best.best_pass = std::max(best.best_pass, num_windows * kWindowBytes / seconds_since(pass_start) / 1e9);
  }
  return best;
}

// Best GFLOP/s of num_tasks tasks of FMA chains, on the pool or on the caller alone.
double fma_peak(int64_t num_tasks, bool parallel) {
  double best = 0.0;
  std::atomic<float> sink{0.0f};
  for (int rep = 0; rep < kFmaRepetitions; ++rep) {
    auto start = std::chrono::steady_clock::now();
    auto body = [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) sink.store(fma_chains(kFmaStepsPerTask), std::memory_order_relaxed);
    };
    if (parallel) {
      parallel_for(num_tasks, 1, body);
    } else {
      body(0, num_tasks);
    }
    best = std::max(best, num_tasks * kFmaStepsPerTask * flops_per_fma_step() / seconds_since(start) / 1e9);
  }
  return best;
}

double sgemm_rate() {
  constexpr int64_t n = 2048;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  double best = 0.0;
  for (int rep = 0; rep < kSgemmRepetitions; ++rep) {
    auto start = std::chrono::steady_clock::now();
    gemm_f32(false, n, n, n, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    best = std::max(best, 2.0 * n * n * n / seconds_since(start) / 1e9);
  }
  return best;
}

}  // namespace

RooflineResult measure_roofline(int num_threads_wanted) {
  int previous_threads = num_threads();
  if (num_threads_wanted != previous_threads) set_num_threads(num_threads_wanted);
  RooflineResult result{};
  {
    const int64_t num_floats = buffer_floats();
    std::vector<float> buffer(num_floats);
    parallel_for(num_floats / kChunkFloats, 1, [&](int64_t begin, int64_t end) {
      std::fill(buffer.begin() + begin * kChunkFloats, buffer.begin() + end * kChunkFloats, 1.0f);
    });
    result.read_bandwidth_gbs_1t = read_bandwidth(buffer, false).best_pass;
    const ReadBandwidth parallel = read_bandwidth(buffer, true);
    result.read_bandwidth_gbs = parallel.best_pass;
    result.read_bandwidth_window_gbs = parallel.best_window;
  }
  result.fma_peak_gflops_1t = fma_peak(4, false);
  // Many small tasks: whichever threads are awake share them, so the rate is what the pool really delivers.
  result.fma_peak_gflops = fma_peak(4 * num_threads(), true);
  result.sgemm_gflops = sgemm_rate();
  if (num_threads() != previous_threads) set_num_threads(previous_threads);
  return result;
}

}  // namespace pagedllm
