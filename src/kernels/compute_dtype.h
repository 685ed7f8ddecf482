// The process-wide precision of the many-row products (prefill, batched decode, training's frozen-base products)
// with BF16, F16 and quantized weights.
//   kBF16: both operands rounded to bf16, products accumulated in fp32 (the AVX512-BF16 GEMM, kernels/gemm.h), what
//          vLLM and PyTorch do for a bf16 model.
//   kF32:  weights widened to fp32, fp32 FMA (the only choice on CPUs without AVX512-BF16).
// F32 weights always multiply in fp32, so fp32 checkpoints give the same bits whatever this says. Products of few
// rows (the streaming decode kernels) are unaffected.
//
// Thread-safety: an atomic; set it before products run (a product already under way may see either value).
#pragma once

namespace pagedllm {

enum class ComputeDType { kF32, kBF16 };

// Default: kBF16 where has_avx512_bf16() (so PAGEDLLM_NO_BF16=1 gives kF32), else kF32.
ComputeDType matmul_compute();
// Setting kBF16 on a CPU without AVX512-BF16 is allowed and keeps fp32 products (see use_bf16_products).
void set_matmul_compute(ComputeDType dtype);

// matmul_compute() is kBF16 and the CPU runs the bf16 GEMM: what the weight formats check before each product.
bool use_bf16_products();

// Sets the compute dtype for its lifetime and restores the previous one (tests; a training step).
class ScopedMatmulCompute {
 public:
  explicit ScopedMatmulCompute(ComputeDType dtype) : previous_(matmul_compute()) { set_matmul_compute(dtype); }
  ~ScopedMatmulCompute() { set_matmul_compute(previous_); }
  ScopedMatmulCompute(const ScopedMatmulCompute&) = delete;
  ScopedMatmulCompute& operator=(const ScopedMatmulCompute&) = delete;

 private:
  ComputeDType previous_;
};

}  // namespace pagedllm
