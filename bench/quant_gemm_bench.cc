// Many-row products of quantized weights, path by path: the VNNI/AVX2 decode kernels on 8-bit activations (what
// matmul takes up to max_decode_rows()), the dequantized-tile GEMM in fp32 and in bf16, and the int8 GEMM
// (quant/int8_gemm.h) with its GOP/s (2 · rows · n_out · n_in per call). Picks the crossovers.
// Usage: quant_gemm_bench [num_threads] [rows ...]   (not a test; best of several calls per figure)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "kernels/cpu_features.h"
#include "quant/quantize.h"
#include "quant/quantized_weight.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace {

template <class Fn>
double best_ms(Fn&& fn) {
  fn();
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best * 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pagedllm;
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 2);
  fmt::print("AVX512-BF16: {}, AVX512-VNNI: {}\n", has_avx512_bf16() ? "yes" : "no", has_avx512_vnni() ? "yes" : "no");
  Rng rng(1);
  std::vector<int64_t> row_counts;
  for (int i = 2; i < argc; ++i) row_counts.push_back(std::atoll(argv[i]));
  if (row_counts.empty()) row_counts = {16, 32, 48, 64, 128, 256, 512};
  for (QuantConfig config : {QuantConfig{WeightFormat::kNF4, 64, true, 256}, QuantConfig{WeightFormat::kQ8_0},
                             QuantConfig{WeightFormat::kInt8}}) {
    for (auto [n_out, n_in] : {std::pair<int64_t, int64_t>{5632, 2048}, {2048, 5632}}) {
      std::vector<float> w(static_cast<size_t>(n_out * n_in));
      for (float& v : w) v = static_cast<float>(0.02 * rng.normal());
      const auto matrix = quantize_weight(w.data(), n_out, n_in, config);
      const auto& q = dynamic_cast<const QuantizedWeight&>(*matrix);
      const bool int8_gemm = has_avx512_vnni() && q.int8_gemm_weights().has_value();
      for (int64_t n_rows : row_counts) {
        std::vector<float> x(static_cast<size_t>(n_rows * n_in), 0.5f), y(static_cast<size_t>(n_rows * n_out));
        const double decode = best_ms([&] { q.matmul_decode(x.data(), y.data(), n_rows, true, true); });
        const double fp32 = best_ms([&] { q.matmul_gemm(x.data(), y.data(), n_rows, false); });
        const double bf16 = best_ms([&] { q.matmul_gemm(x.data(), y.data(), n_rows, true); });
        const double int8 = int8_gemm ? best_ms([&] { q.matmul_int8(x.data(), y.data(), n_rows, true); }) : 0.0;
        const double gops = 2e-6 * static_cast<double>(n_rows * n_out * n_in);
        fmt::print(
            "{}{} {}x{} rows {:3}: decode q8 {:7.2f} ms, tiles fp32 {:7.2f} ms, tiles bf16 {:7.2f} ms ({:4.0f} GOP/s), "
            "int8 {:7.2f} ms ({:4.0f} GOP/s)\n",
            weight_format_name(config.format), config.format == WeightFormat::kNF4 && config.double_quant ? "+DQ" : "",
            n_out, n_in, n_rows, decode, fp32, bf16, gops / bf16, int8, int8_gemm ? gops / int8 : 0.0);
      }
    }
  }
  return 0;
}
