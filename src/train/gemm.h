// Dense matrix products of the LoRA adapters, in float (training) and double (gradient checks), straight over
// BLAS. They run on the calling thread (kernels/gemm.h pins OpenBLAS to one thread): the products here have one
// dimension equal to the LoRA rank, small next to the frozen-weight products that WeightMatrix parallelizes.
#pragma once

#include <cstdint>

namespace pagedllm {

// c (m, n) = alpha · op(a) · op(b) + beta · c, row-major; op(a) is (m, k): a is (m, k), or (k, m) when trans_a;
// op(b) is (k, n): b is (k, n), or (n, k) when trans_b. beta = 0 assigns c, beta = 1 accumulates into c.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta,
          T* c);

}  // namespace pagedllm
