#include "train/rope.h"

#include <cmath>

#include "util/thread_pool.h"

namespace pagedllm {
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

template <typename T>
void rope_backward(T* dx, const int64_t* positions, int64_t n_tokens, int n_heads, int head_dim, int rotary_dim,
                   const float* inv_freq) {
  rotate<T>(dx, positions, n_tokens, n_heads, head_dim, rotary_dim, inv_freq, T(-1));
}

template void rope_forward<float>(float*, const int64_t*, int64_t, int, int, int, const float*);
template void rope_forward<double>(double*, const int64_t*, int64_t, int, int, int, const float*);
template void rope_backward<float>(float*, const int64_t*, int64_t, int, int, int, const float*);
template void rope_backward<double>(double*, const int64_t*, int64_t, int, int, int, const float*);

}  // namespace pagedllm
