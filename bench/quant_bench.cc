#include "bench/quant_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "util/rng.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

// Larger than the last-level cache of the machines we run on, so a cycle through the copies misses it.
constexpr size_t kStreamFootprintBytes = size_t{512} << 20;
constexpr int kMaxCopies = 64;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

QuantGemvBenchResult bench_quant_gemv(const QuantConfig& config, int64_t n_out, int64_t n_in, int64_t n_rows,
                                      int num_calls) {
  Rng rng(1234);
  std::vector<float> w(static_cast<size_t>(n_out * n_in));
  for (float& v : w) v = static_cast<float>(0.02 * rng.normal());
  std::vector<std::unique_ptr<WeightMatrix>> copies;
  copies.push_back(quantize_weight(w.data(), n_out, n_in, config));
  const size_t bytes = copies[0]->num_bytes();
  const int num_copies = static_cast<int>(std::clamp<size_t>(kStreamFootprintBytes / bytes + 1, 1, kMaxCopies));
  while (static_cast<int>(copies.size()) < num_copies) copies.push_back(quantize_weight(w.data(), n_out, n_in, config));
  w.clear();
  w.shrink_to_fit();

  std::vector<float> x(static_cast<size_t>(n_rows * n_in));
  for (float& v : x) v = static_cast<float>(rng.normal());
  std::vector<float> y(static_cast<size_t>(n_rows * n_out));
  for (auto& m : copies) m->matmul(x.data(), y.data(), n_rows);  // warm-up: page in, spin up the pool

  std::vector<double> times;
  for (int i = 0; i < num_calls; ++i) {
    const auto start = std::chrono::steady_clock::now();
    copies[i % num_copies]->matmul(x.data(), y.data(), n_rows);
    times.push_back(seconds_since(start));
  }
  std::sort(times.begin(), times.end());
  QuantGemvBenchResult result;
  result.format = config.format;
  result.double_quant = is_4bit_format(config.format) && config.double_quant;
  result.n_out = n_out;
  result.n_in = n_in;
  result.n_rows = n_rows;
  result.weight_bytes = bytes;
  result.seconds_per_call = times[times.size() / 2];
  result.gb_per_s = static_cast<double>(bytes) / result.seconds_per_call / 1e9;
  return result;
}

double measure_read_bandwidth_gb_per_s(size_t num_bytes, int num_passes) {
  const size_t num_words = num_bytes / sizeof(uint64_t);
  std::vector<uint64_t> buffer(num_words);
  parallel_for(static_cast<int64_t>(num_words), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) buffer[i] = static_cast<uint64_t>(i);
  });
  std::atomic<uint64_t> sink{0};
  double best = 0;
  for (int pass = 0; pass < num_passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    parallel_for(static_cast<int64_t>(num_words), 1 << 16, [&](int64_t begin, int64_t end) {
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = begin;
      for (; i + 4 <= end; i += 4) {
        s0 += buffer[i];
        s1 += buffer[i + 1];
        s2 += buffer[i + 2];
        s3 += buffer[i + 3];
      }
      for (; i < end; ++i) s0 += buffer[i];
      sink += s0 + s1 + s2 + s3;
    });
    best = std::max(best, static_cast<double>(num_words * sizeof(uint64_t)) / seconds_since(start) / 1e9);
  }
  return best;
}

std::string format_bench_result(const QuantGemvBenchResult& r, double bandwidth_gb_per_s) {
  return fmt::format("{}{} {}x{} rows={}: {:.2f} MB, {:.3f} ms, {:.1f} GB/s ({:.0f}% of {:.1f} GB/s)",
                     weight_format_name(r.format), r.double_quant ? "+DQ" : "", r.n_out, r.n_in, r.n_rows,
                     static_cast<double>(r.weight_bytes) / 1e6, r.seconds_per_call * 1e3, r.gb_per_s,
                     100.0 * r.gb_per_s / bandwidth_gb_per_s, bandwidth_gb_per_s);
}

std::vector<std::string> quant_gemv_bench_report(int64_t n_rows, int num_calls) {
  const double bandwidth = measure_read_bandwidth_gb_per_s(size_t{512} << 20, 5);
  std::vector<std::string> lines = {fmt::format("read bandwidth: {:.1f} GB/s ({} threads)", bandwidth, num_threads())};
  const QuantConfig configs[] = {{WeightFormat::kNF4, 64, false, 256},
                                 {WeightFormat::kNF4, 64, true, 256},
                                 {WeightFormat::kInt8},
                                 {WeightFormat::kQ8_0},
                                 {WeightFormat::kF32}};
  const int64_t shapes[][2] = {{2048, 5632}, {5632, 2048}};
  for (const auto& config : configs) {
    for (const auto& shape : shapes) {
      lines.push_back(format_bench_result(bench_quant_gemv(config, shape[0], shape[1], n_rows, num_calls), bandwidth));
    }
  }
  return lines;
}

}  // namespace pagedllm
