#include "kernels/rope.h"

#include <cmath>

#include "kernels/elementwise_dispatch.h"
#include "kernels/generic/elementwise.h"
#include "kernels/x86_avx2/elementwise.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {

using namespace elementwise_dispatch;

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

namespace {

// Rotates every head of every token by +angle (direction = 1) or −angle (direction = −1).
template <typename T>
void rotate(T* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
            const float* inv_freq, T direction) {
  const int half = rotary_dim / 2;
  parallel_for(n_tokens, 8, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      for (int i = 0; i < half; ++i) {
        const float angle = static_cast<float>(positions[t]) * inv_freq[i];
        const T c = static_cast<T>(std::cos(angle));
        const T s = direction * static_cast<T>(std::sin(angle));
        for (int h = 0; h < n_heads; ++h) {
          T* head = x + (t * n_heads + h) * head_dim;
          const T a = head[i];
          const T b = head[i + half];
          head[i] = a * c - b * s;
          head[i + half] = b * c + a * s;
        }
      }
    }
  });
}

}  // namespace

template <typename T>
void rope_forward(T* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
                  const float* inv_freq) {
  rotate<T>(x, positions, n_tokens, n_heads, head_dim, rotary_dim, inv_freq, T(1));
}

// Training's float forward is serving's kernel: one definition of the rotation for both.
template <>
void rope_forward<float>(float* x, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim,
                         int rotary_dim, const float* inv_freq) {
  rope(x, positions, n_tokens, n_heads, head_dim, rotary_dim, inv_freq);
}

template <typename T>
void rope_backward(T* dx, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
                   const float* inv_freq) {
  rotate<T>(dx, positions, n_tokens, n_heads, head_dim, rotary_dim, inv_freq, T(-1));
}

template void rope_forward<double>(double*, const int64_t*, int64_t, int, int, int, const float*);
template void rope_backward<float>(float*, const int64_t*, int64_t, int, int, int, const float*);
template void rope_backward<double>(double*, const int64_t*, int64_t, int, int, int, const float*);

}  // namespace pagedllm
