// Kernel micro-benchmarks: the machine roofline and dense matmul rates at TinyLlama-1.1B shapes.
// Usage: kernels_bench [num_threads] [gemm|attention]   (not a test; prints one line per measurement; `gemm` runs
// only the many-row products of 16-bit weights in fp32 and in bf16, `attention` only the served decode attention)
// Every figure is the best of many calls: on a machine shared with other work that approaches the unloaded rate.
#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <numeric>
#include <random>
#include <string_view>
#include <vector>

#include "kernels/attention.h"
#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "bench/matmul_bench.h"
#include "kernels/roofline.h"
#include "util/thread_pool.h"

namespace {

// 2048³ sgemm: our N split over the pool (OpenBLAS at 1 thread) against OpenBLAS's own threads from one caller.
void compare_sgemm_threading(int threads) {
  constexpr int64_t n = 2048;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  auto best_gflops = [&](auto&& run) {
    double best = 1e30;
    for (int rep = 0; rep < 4; ++rep) {
      auto start = std::chrono::steady_clock::now();
      run();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return 2.0 * n * n * n / best / 1e9;
  };
  double pool = best_gflops([&] { pagedllm::gemm_f32(false, n, n, n, a.data(), n, b.data(), n, 0.0f, c.data(), n); });
  openblas_set_num_threads(threads);
  double blas = best_gflops([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  });
  openblas_set_num_threads(1);
  fmt::print("sgemm 2048^3 GFLOP/s: pool split {:.1f}, OpenBLAS {} threads {:.1f}\n", pool, threads, blas);
}

// TinyLlama-like layer (32 heads, 4 kv heads, head_dim 64, block 16): decode of num_seqs sequences of context
// tokens each (K/V bytes read per second), and one prefill chunk of q_len tokens (its history = context - q_len).
void bench_attention(int num_seqs, int context, int q_len) {
  const int n_heads = 32, n_kv_heads = 4, head_dim = 64, block_size = 16;
  const int blocks_per_seq = (context + block_size - 1) / block_size;
  std::vector<float> key_cache(static_cast<size_t>(num_seqs) * blocks_per_seq * block_size * n_kv_heads * head_dim, 0.01f);
  std::vector<float> value_cache(key_cache.size(), 0.02f);
  std::vector<int32_t> block_tables(num_seqs * blocks_per_seq), seq_lens(num_seqs, context), query_start(num_seqs + 1);
  for (size_t i = 0; i < block_tables.size(); ++i) block_tables[i] = static_cast<int32_t>(i);
  for (int s = 0; s <= num_seqs; ++s) query_start[s] = s * q_len;
  std::vector<float> q(static_cast<size_t>(num_seqs) * q_len * n_heads * head_dim, 0.1f), out(q.size());
  double best = 1e30;
  for (int rep = 0; rep < 20; ++rep) {
    auto start = std::chrono::steady_clock::now();
    pagedllm::paged_attention(out.data(), q.data(), key_cache.data(), value_cache.data(), block_tables.data(),
                              blocks_per_seq, seq_lens.data(), query_start.data(), num_seqs, n_heads, n_kv_heads,
                              head_dim, block_size, 0.125f);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  double kv_bytes = 2.0 * num_seqs * context * n_kv_heads * head_dim * sizeof(float);
  // Causal: query i of the chunk sees context - q_len + i + 1 positions; 2 FMAs (QK and PV) per head_dim element.
  double positions = static_cast<double>(num_seqs) * q_len * (context - q_len) + num_seqs * q_len * (q_len + 1) / 2.0;
  double flops = 4.0 * positions * n_heads * head_dim;
  fmt::print("attention {} seqs x {} ctx, {} query tokens each: {:7.3f} ms  K/V {:5.1f} GB/s  {:5.1f} GFLOP/s\n",
             num_seqs, context, q_len, best * 1e3, kv_bytes / best / 1e9, flops / best / 1e9);
}

// What a server's decode step reads: SmolLM2-135M's attention (9 heads, 3 kv heads, head_dim 64, block 16) over
// `layers` layers of caches in `dtype`, num_seqs sequences of context positions each, their blocks scattered as a
// long-running block manager leaves them. 30 layers of 64 sequences far exceed the last-level cache, as a served
// batch's caches do; 1 layer of 4 stays in L2 and shows the arithmetic alone.
void bench_decode_attention(int num_seqs, int context, pagedllm::KVCacheDType dtype, int layers, int reps) {
  using namespace pagedllm;
  const int n_heads = 9, n_kv_heads = 3, head_dim = 64, block_size = 16;
  const int blocks_per_seq = (context + block_size - 1) / block_size;
  const int64_t num_blocks = static_cast<int64_t>(num_seqs) * blocks_per_seq;
  const int64_t layer_bytes = num_blocks * block_size * n_kv_heads * head_dim * kv_cache_dtype_size(dtype);
  std::vector<char> keys(layers * layer_bytes, 0), values(layers * layer_bytes, 0);
  std::vector<int32_t> block_tables(num_blocks), seq_lens(num_seqs, context), query_start(num_seqs + 1);
  std::iota(block_tables.begin(), block_tables.end(), 0);
  std::shuffle(block_tables.begin(), block_tables.end(), std::mt19937(7));
  for (int s = 0; s <= num_seqs; ++s) query_start[s] = s;
  std::vector<float> q(static_cast<size_t>(num_seqs) * n_heads * head_dim, 0.1f), out(q.size());
  double best = 1e30, best_cpu = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    for (int layer = 0; layer < layers; ++layer) {
      KVCacheLayer cache{keys.data() + layer * layer_bytes, values.data() + layer * layer_bytes, dtype};
      paged_attention(out.data(), q.data(), cache, block_tables.data(), blocks_per_seq, seq_lens.data(),
                      query_start.data(), num_seqs, n_heads, n_kv_heads, head_dim, block_size, 0.125f);
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    best_cpu = std::min(best_cpu, static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
  }
  // CPU time beside wall time: with one thread on a shared host, the first is the kernel's own cost.
  fmt::print("decode attention {} seqs x {} ctx, {} KV, {} layers: {:7.3f} ms (cpu {:7.3f} ms)  K/V {:5.1f} GB/s\n",
             num_seqs, context, kv_cache_dtype_name(dtype), layers, best * 1e3, best_cpu * 1e3,
             2.0 * layers * layer_bytes / best / 1e9);
}

// Many-row products of a BF16 matrix, fp32 FMA (weights widened) against the bf16 GEMM: 512×2048×5632 and
// TinyLlama's other projections (q 2048, k/v 256, gate/up 5632 out of 2048; down 2048 out of 5632), 512 rows.
void compare_bf16_products() {
  using namespace pagedllm;
  fmt::print("AVX512-BF16: {}\n", has_avx512_bf16() ? "yes" : "no (bf16 rows show the fp32 path)");
  fmt::print("{} (PAGEDLLM_NO_AMX=1 compares AVX512-BF16)\n", amx_status());
  for (auto [n_out, n_in] : {std::pair<int64_t, int64_t>{5632, 2048}, {2048, 5632}, {2048, 2048}, {256, 2048}}) {
    for (bool backward : {false, true}) {
      double gflops[2];
      for (ComputeDType dtype : {ComputeDType::kF32, ComputeDType::kBF16}) {
        ScopedMatmulCompute compute(dtype);
        gflops[dtype == ComputeDType::kBF16] = bench_matmul(WeightFormat::kBF16, n_out, n_in, 512, 5, backward).gflops;
      }
      fmt::print("BF16 {} 512 rows x {}x{}: fp32 {:6.1f} GFLOP/s, bf16 {:6.1f} GFLOP/s ({:.2f}x)\n",
                 backward ? "backward" : "forward ", n_out, n_in, gflops[0], gflops[1], gflops[1] / gflops[0]);
    }
  }
  // A served batch: 64 rows through SmolLM2-135M's products (its weights, 270 MB, come from main memory each step).
  for (auto [n_out, n_in] : {std::pair<int64_t, int64_t>{1536, 576}, {576, 1536}, {576, 576}, {49152, 576}}) {
    ScopedMatmulCompute compute(ComputeDType::kBF16);
    MatmulBenchResult r = bench_matmul(WeightFormat::kBF16, n_out, n_in, 64, 20);
    fmt::print("BF16 64 rows x {}x{}: bf16 {:6.1f} GFLOP/s, weights {:5.1f} GB/s\n", n_out, n_in, r.gflops, r.weight_gbs);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pagedllm;
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  if (argc > 2 && std::string_view(argv[2]) == "gemm") {
    set_num_threads(threads);
    compare_bf16_products();
    return 0;
  }
  if (argc > 2 && std::string_view(argv[2]) == "attention") {
    set_num_threads(threads);
    for (KVCacheDType dtype : {KVCacheDType::kBFloat16, KVCacheDType::kFloat32, KVCacheDType::kFp8E4M3}) {
      bench_decode_attention(64, 192, dtype, 30, 5);
      bench_decode_attention(4, 192, dtype, 1, 200);
    }
    return 0;
  }
  RooflineResult roof = measure_roofline(threads);
  fmt::print("read GB/s 1t {:.1f}  {}t {:.1f} | FMA GFLOP/s 1t {:.1f}  {}t {:.1f} | sgemm 2048^3 GFLOP/s {:.1f}\n",
             roof.read_bandwidth_gbs_1t, threads, roof.read_bandwidth_gbs, roof.fma_peak_gflops_1t, threads,
             roof.fma_peak_gflops, roof.sgemm_gflops);
  if (num_threads() != threads) set_num_threads(threads);
  compare_sgemm_threading(threads);
  bench_attention(8, 1024, 1);
  bench_attention(1, 2048, 1);
  bench_attention(1, 512, 512);
  for (WeightFormat format : {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16}) {
    for (auto [n_out, n_in] : {std::pair<int64_t, int64_t>{5632, 2048}, {2048, 5632}}) {
      for (int64_t n_rows : {1, 4, 8, 12, 16, 32}) {
        MatmulBenchResult r = bench_matmul(format, n_out, n_in, n_rows, 40);
        fmt::print("{:4} {}x{} rows {:3}: {:7.3f} ms {:5.1f} GB/s ({:3.0f}% of read bw) {:5.1f} GFLOP/s\n",
                   weight_format_name(format), n_out, n_in, n_rows, r.seconds * 1e3, r.weight_gbs,
                   100.0 * r.weight_gbs / roof.read_bandwidth_gbs, r.gflops);
      }
    }
    for (bool backward : {false, true}) {
      MatmulBenchResult p = bench_matmul(format, 5632, 2048, 512, 5, backward);
      fmt::print("{:4} {} 512 rows x 5632x2048: {:7.2f} ms {:5.1f} GFLOP/s\n", weight_format_name(format),
                 backward ? "backward" : "forward ", p.seconds * 1e3, p.gflops);
    }
    MatmulBenchResult d = bench_matmul(format, 5632, 2048, 4, 40, true);
    fmt::print("{:4} backward 4 rows x 5632x2048: {:7.3f} ms {:5.1f} GB/s ({:3.0f}% of read bw)\n",
               weight_format_name(format), d.seconds * 1e3, d.weight_gbs, 100.0 * d.weight_gbs / roof.read_bandwidth_gbs);
  }
  return 0;
}
