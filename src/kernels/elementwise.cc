#include "kernels/elementwise.h"

#include "kernels/elementwise_dispatch.h"
#include "kernels/generic/elementwise.h"
#include "kernels/x86_avx2/elementwise.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
using namespace elementwise_dispatch;

void add_inplace(float* y, const float* x, int64_t n) {
  auto* fn = use_avx2() ? &avx2::add_inplace : &generic::add_inplace;
  parallel_for(n, kMinTaskElements, [&](int64_t begin, int64_t end) { fn(y + begin, x + begin, end - begin); });
}

void dropout_scale(float* out, const float* x, const uint8_t* keep, int64_t n, float scale) {
  auto* fn = use_avx2() ? &avx2::dropout_scale : &generic::dropout_scale;
  parallel_for(n, kMinTaskElements, [&](int64_t begin, int64_t end) {
    fn(out + begin, x + begin, keep + begin, end - begin, scale);
  });
}

void add_dropout_scaled(float* y, const float* x, const uint8_t* keep, int64_t n, float scale) {
  auto* fn = use_avx2() ? &avx2::add_dropout_scaled : &generic::add_dropout_scaled;
  parallel_for(n, kMinTaskElements, [&](int64_t begin, int64_t end) {
    fn(y + begin, x + begin, keep + begin, end - begin, scale);
  });
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
