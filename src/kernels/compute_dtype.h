// The process-wide precision of the many-row products (prefill, batched decode, training's frozen-base products)
// with BF16, F16 and quantized weights.
//   kBF16: both operands rounded to bf16, products accumulated in fp32 (the AVX512-BF16 GEMM, kernels/gemm.h), what
//          vLLM and PyTorch do for a bf16 model.
//   kF32:  weights widened to fp32, fp32 FMA (the only choice on CPUs without AVX512-BF16).
// F32 weights always multiply in fp32, so fp32 checkpoints give the same bits whatever this says. Products of few
// rows (the streaming decode kernels) are unaffected.
//
// Serving and training have separate settings: serving (WeightMatrix::matmul) defaults to bf16 where the CPU has it;
// training defaults to fp32 and a fine-tune opts in (its --bf16 flag), so code that checks training products against
// fp32 references keeps them unless it asks. Training's setting governs every product of a step, as PyTorch's bf16
// autocast does: the frozen base's (matmul_exact, matmul_backward_input), the LoRA adapters' and attention's
// (gemm_in, kernels/gemm.h). The adapters' weights, gradients and optimizer state and the loss stay fp32.
//
// Thread-safety: atomics; set them before products run (a product already under way may see either value).
#pragma once

namespace pagedllm {

enum class ComputeDType { kF32, kBF16 };

// WeightMatrix::matmul. Default: kBF16 where has_avx512_bf16() (so PAGEDLLM_NO_BF16=1 gives kF32), else kF32.
ComputeDType matmul_compute();
void set_matmul_compute(ComputeDType dtype);

// WeightMatrix::matmul_exact and matmul_backward_input. Default: kF32.
ComputeDType training_matmul_compute();
void set_training_matmul_compute(ComputeDType dtype);

// `dtype` is kBF16 and the CPU runs the bf16 GEMM: what the weight formats check before each product. Setting kBF16
// on a CPU without AVX512-BF16 is allowed and keeps fp32 products.
bool runs_bf16(ComputeDType dtype);

// Sets both dtypes for its lifetime and restores the previous ones (tests; a training step).
class ScopedMatmulCompute {
 public:
  explicit ScopedMatmulCompute(ComputeDType dtype)
      : serving_(matmul_compute()), training_(training_matmul_compute()) {
    set_matmul_compute(dtype);
    set_training_matmul_compute(dtype);
  }
  ~ScopedMatmulCompute() {
    set_matmul_compute(serving_);
    set_training_matmul_compute(training_);
  }
  ScopedMatmulCompute(const ScopedMatmulCompute&) = delete;
  ScopedMatmulCompute& operator=(const ScopedMatmulCompute&) = delete;

 private:
  ComputeDType serving_;
  ComputeDType training_;
};

}  // namespace pagedllm
