// Dense matrix products of training (LoRA adapters, attention), in float over kernels/gemm.h (on the pool; serial
// when called from inside a parallel_for task) and in double (gradient checks) over BLAS on the calling thread.
#pragma once

#include <cstdint>

namespace pagedllm {

// c (m, n) = alpha · op(a) · op(b) + beta · c, row-major; op(a) is (m, k): a is (m, k), or (k, m) when trans_a;
// op(b) is (k, n): b is (k, n), or (n, k) when trans_b. beta = 0 assigns c, beta = 1 accumulates into c.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta,
          T* c);

}  // namespace pagedllm
