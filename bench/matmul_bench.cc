#include "bench/matmul_bench.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "util/half.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

std::vector<uint8_t> random_weight_bytes(WeightFormat format, int64_t n, Rng& rng) {
  int64_t elem = format == WeightFormat::kF32 ? 4 : 2;
  std::vector<uint8_t> bytes(n * elem);
  for (int64_t i = 0; i < n; ++i) {
    float v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
    if (format == WeightFormat::kF32) {
      reinterpret_cast<float*>(bytes.data())[i] = v;
    } else {
      reinterpret_cast<uint16_t*>(bytes.data())[i] = format == WeightFormat::kF16 ? f32_to_f16(v) : f32_to_bf16(v);
    }
  }
  return bytes;
}

}  // namespace

MatmulBenchResult bench_matmul(WeightFormat format, int64_t n_out, int64_t n_in, int64_t n_rows, int repetitions,
                               bool backward) {
  // Calls cycle through copies of W totalling at least 4× a 32 MiB L3, so every call streams W from DRAM.
  constexpr int64_t kMinTotalBytes = int64_t{128} << 20;
  Rng rng(1);
  std::vector<std::unique_ptr<WeightMatrix>> copies;
  int64_t total_bytes = 0;
  while (total_bytes < kMinTotalBytes || copies.empty()) {
    std::vector<uint8_t> bytes = random_weight_bytes(format, n_out * n_in, rng);
    const void* data = bytes.data();
    copies.push_back(make_dense_weight(format, data, n_out, n_in, std::move(bytes)));
    total_bytes += static_cast<int64_t>(copies.back()->num_bytes());
  }
  std::vector<float> in(n_rows * (backward ? n_out : n_in));
  std::vector<float> out(n_rows * (backward ? n_in : n_out));
  for (float& v : in) v = static_cast<float>(rng.uniform() - 0.5);
  double best = 1e30;
  for (int rep = 0; rep <= repetitions; ++rep) {
    const WeightMatrix& w = *copies[rep % copies.size()];
    auto start = std::chrono::steady_clock::now();
    if (backward) {
      w.matmul_backward_input(in.data(), out.data(), n_rows);
    } else {
      w.matmul(in.data(), out.data(), n_rows);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0) best = std::min(best, seconds);
  }
  double weight_bytes = static_cast<double>(copies[0]->num_bytes());
  return {best, weight_bytes / best / 1e9, 2.0 * n_rows * n_out * n_in / best / 1e9};
}

}  // namespace pagedllm
