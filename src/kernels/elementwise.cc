#include "kernels/elementwise.h"

#include <algorithm>

#include "kernels/cpu_features.h"
#include "kernels/generic/elementwise.h"
#include "kernels/x86_avx2/elementwise.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

// Work below this many elements per task is not worth waking another thread for.
constexpr int64_t kMinTaskElements = 32 * 1024;

int64_t rows_per_task(int64_t row_elements) { return std::max<int64_t>(1, kMinTaskElements / std::max<int64_t>(row_elements, 1)); }

bool use_avx2() { return has_avx2_fma_f16c(); }

}  // namespace

void rmsnorm(float* out, const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps) {
  auto* fn = use_avx2() ? &avx2::rmsnorm : &generic::rmsnorm;
  parallel_for(n_rows, rows_per_task(dim), [&](int64_t begin, int64_t end) {
    fn(out + begin * dim, x + begin * dim, weight, end - begin, dim, eps);
  });
}

void rope(float* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
          const float* inv_freq) {
  if (rotary_dim < 0 || rotary_dim % 2 != 0 || rotary_dim > head_dim) {
    throw_error(ErrorKind::kInvalidArgument, "rope: rotary_dim {} must be even and within head_dim {}", rotary_dim,
                head_dim);
  }
  auto* fn = use_avx2() ? &avx2::rope : &generic::rope;
  int64_t token_elements = static_cast<int64_t>(n_heads) * head_dim;
  parallel_for(n_tokens, rows_per_task(token_elements), [&](int64_t begin, int64_t end) {
    fn(x + begin * token_elements, positions + begin, end - begin, n_heads, head_dim, rotary_dim, inv_freq);
  });
}

void silu_mul(float* out, const float* gate, const float* up, int64_t n) {
  auto* fn = use_avx2() ? &avx2::silu_mul : &generic::silu_mul;
  parallel_for(n, kMinTaskElements, [&](int64_t begin, int64_t end) {
    fn(out + begin, gate + begin, up + begin, end - begin);
  });
}

void add_inplace(float* y, const float* x, int64_t n) {
  auto* fn = use_avx2() ? &avx2::add_inplace : &generic::add_inplace;
  parallel_for(n, kMinTaskElements, [&](int64_t begin, int64_t end) { fn(y + begin, x + begin, end - begin); });
}

void log_softmax(float* out, const float* x, int64_t n_rows, int64_t dim) {
  auto* fn = use_avx2() ? &avx2::log_softmax : &generic::log_softmax;
  parallel_for(n_rows, rows_per_task(dim), [&](int64_t begin, int64_t end) {
    fn(out + begin * dim, x + begin * dim, end - begin, dim);
  });
}

float log_sum_exp(const float* x, int64_t n) {
  return use_avx2() ? avx2::log_sum_exp(x, n) : generic::log_sum_exp(x, n);
}

void exp_shifted_scaled(float* out, const float* x, int64_t n, float shift, float scale) {
  if (use_avx2()) {
    avx2::exp_shifted_scaled(out, x, n, shift, scale);
  } else {
    generic::exp_shifted_scaled(out, x, n, shift, scale);
  }
}

}  // namespace pagedllm
