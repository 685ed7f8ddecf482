#include "kernels/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/elementwise.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {

int64_t count_targets(const int32_t* targets, int64_t n_tokens) {
  return std::count_if(targets, targets + n_tokens, [](int32_t t) { return t != kIgnoreTarget; });
}

template <typename T>
T cross_entropy_forward(T* lse, const T* logits, const int32_t* targets, int64_t n_tokens, int64_t vocab,
                        int64_t num_targets) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    if (targets[t] != kIgnoreTarget && (targets[t] < 0 || targets[t] >= vocab)) {
      throw_error(ErrorKind::kInvalidArgument, "cross_entropy: target {} at position {} outside the vocabulary of {}",
                  targets[t], t, vocab);
    }
  }
  std::vector<T> row_loss(n_tokens, T(0));
  parallel_for(n_tokens, 4, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      if (targets[t] == kIgnoreTarget) {
        lse[t] = 0;
        continue;
      }
      const T* row = logits + t * vocab;
      if constexpr (std::is_same_v<T, float>) {
        lse[t] = log_sum_exp(row, vocab);  // the vectorized kernel
      } else {
        const T max_logit = *std::max_element(row, row + vocab);
        T sum = 0;
        for (int64_t i = 0; i < vocab; ++i) sum += std::exp(row[i] - max_logit);
        lse[t] = max_logit + std::log(sum);
      }
      row_loss[t] = lse[t] - row[targets[t]];
    }
  });
  // Summed in row order so that the loss does not depend on the thread count.
  T total = 0;
  for (T l : row_loss) total += l;
  return num_targets > 0 ? total / static_cast<T>(num_targets) : T(0);
}

template <typename T>
void cross_entropy_backward(T* dlogits, const T* logits, const T* lse, const int32_t* targets, int64_t n_tokens,
                            int64_t vocab, int64_t num_targets, T dloss) {
  const T coef = num_targets > 0 ? dloss / static_cast<T>(num_targets) : T(0);
  parallel_for(n_tokens, 4, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      T* drow = dlogits + t * vocab;
      if (targets[t] == kIgnoreTarget) {
        std::fill(drow, drow + vocab, T(0));
        continue;
      }
      const T* row = logits + t * vocab;
      if constexpr (std::is_same_v<T, float>) {
        exp_shifted_scaled(drow, row, vocab, lse[t], coef);
      } else {
        for (int64_t i = 0; i < vocab; ++i) drow[i] = coef * std::exp(row[i] - lse[t]);
      }
      drow[targets[t]] -= coef;
    }
  });
}

template float cross_entropy_forward<float>(float*, const float*, const int32_t*, int64_t, int64_t, int64_t);
template double cross_entropy_forward<double>(double*, const double*, const int32_t*, int64_t, int64_t, int64_t);
template void cross_entropy_backward<float>(float*, const float*, const float*, const int32_t*, int64_t, int64_t,
                                            int64_t, float);
template void cross_entropy_backward<double>(double*, const double*, const double*, const int32_t*, int64_t, int64_t,
                                             int64_t, double);

}  // namespace pagedllm
