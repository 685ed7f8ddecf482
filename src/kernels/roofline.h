// Measures the machine limits a kernel is judged against (`pagedllm bench roofline`): streaming read bandwidth,
// peak fp32 FMA throughput and the sgemm rate OpenBLAS reaches through gemm_f32. Takes a few seconds and a buffer
// of 4× the last-level cache (256 MiB to 4 GiB).
#pragma once

namespace pagedllm {

struct RooflineResult {
  double read_bandwidth_gbs_1t;  // GB/s (1e9 bytes/s): best whole pass summing a buffer ≥ 4× the caches, one thread
  double read_bandwidth_gbs;     // the same on num_threads threads
  double read_bandwidth_window_gbs;  // the best 32 MiB window of those passes (num_threads; the figure before session 6)
  double fma_peak_gflops_1t;     // GFLOP/s (an FMA counts 2) of independent FMA chains of the widest width (AVX-512 or AVX2), one thread
  double fma_peak_gflops;        // the same on num_threads threads
  double sgemm_gflops;           // 2048×2048×2048 gemm_f32 on num_threads threads
};

// Sets the process thread pool to num_threads for the measurement and restores the previous size afterwards.
// Each figure is the best of several repetitions (many short ones where possible, so that a machine shared with
// other work still shows its unloaded rate in some of them).
RooflineResult measure_roofline(int num_threads);

}  // namespace pagedllm
