#include "bench/tokenizer_bench.h"

#include <time.h>

#include <string_view>
#include <vector>

namespace pagedllm {

namespace {

std::vector<std::string_view> split_lines(const std::string& text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end + 1;
    lines.emplace_back(text.data() + start, end - start);
    start = end;
  }
  return lines;
}

size_t encode_all(const Tokenizer& tokenizer, const std::vector<std::string_view>& lines) {
  size_t num_ids = 0;
  for (const auto line : lines) num_ids += tokenizer.encode(line, false).size();
  return num_ids;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

double bench_tokenizer_encode_mb_per_s(const Tokenizer& tokenizer, const std::string& text, double min_seconds) {
  if (text.empty()) return 0.0;
  const auto lines = split_lines(text);
  encode_all(tokenizer, lines);
  const double start = thread_cpu_seconds();
  size_t bytes = 0;
  double seconds = 0.0;
  do {
    encode_all(tokenizer, lines);
    bytes += text.size();
    seconds = thread_cpu_seconds() - start;
  } while (seconds < min_seconds);
  return static_cast<double>(bytes) / 1e6 / seconds;
}

}  // namespace pagedllm
