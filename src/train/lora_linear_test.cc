#include "train/lora_linear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quant/blockwise_4bit.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

// A plain fp32 WeightMatrix, independent of kernels' implementations, so this test pins lora_linear's own logic.
class ReferenceWeight : public WeightMatrix {
 public:
  ReferenceWeight(std::vector<float> w, int64_t n_out, int64_t n_in)
      : WeightMatrix(WeightFormat::kF32, n_out, n_in), w_(std::move(w)) {}
  void matmul(const float* x, float* y, int64_t n_rows) const override {
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t o = 0; o < n_out(); ++o) {
        double sum = 0;
        for (int64_t i = 0; i < n_in(); ++i) sum += double(x[r * n_in() + i]) * w_[o * n_in() + i];
        y[r * n_out() + o] = static_cast<float>(sum);
      }
  }
  void matmul_backward_input(const float* dy, float* dx, int64_t n_rows) const override {
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t i = 0; i < n_in(); ++i) {
        double sum = 0;
        for (int64_t o = 0; o < n_out(); ++o) sum += double(dy[r * n_out() + o]) * w_[o * n_in() + i];
        dx[r * n_in() + i] = static_cast<float>(sum);
      }
  }
  void dequantize_row(int64_t row, float* out) const override {
    std::copy_n(w_.data() + row * n_in(), n_in(), out);
  }
  size_t num_bytes() const override { return w_.size() * 4; }

 private:
  std::vector<float> w_;
};

std::vector<float> random_floats(Rng& rng, size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(2 * rng.uniform() - 1);
  return v;
}

LoraLinear<float> adapted(const WeightMatrix& w, const std::vector<float>& A, const std::vector<float>& B,
                          std::vector<float>& dA, std::vector<float>& dB, const LoraDims& dims) {
  return {frozen_linear(w), A.data(), B.data(), dA.data(), dB.data(), dims};
}

// lora_linear must equal a dense layer with the merged weight W + scale·B·A (no dropout): forward and dx.
TEST(LoraLinearTest, EqualsDenseLayerWithMergedWeight) {
  const int64_t n_rows = 3;
  const LoraDims dims{6, 4, 2, 8.0 / 2, 0.0f};
  Rng rng(8);
  const auto w = random_floats(rng, dims.n_out * dims.n_in);
  const auto A = random_floats(rng, dims.rank * dims.n_in);
  const auto B = random_floats(rng, dims.n_out * dims.rank);
  const auto x = random_floats(rng, n_rows * dims.n_in);
  const auto dy = random_floats(rng, n_rows * dims.n_out);
  std::vector<float> merged = w;
  for (int64_t o = 0; o < dims.n_out; ++o)
    for (int64_t i = 0; i < dims.n_in; ++i)
      for (int64_t k = 0; k < dims.rank; ++k)
        merged[o * dims.n_in + i] += static_cast<float>(dims.scale) * B[o * dims.rank + k] * A[k * dims.n_in + i];
  const ReferenceWeight base(w, dims.n_out, dims.n_in), dense(merged, dims.n_out, dims.n_in);

  std::vector<float> dx(x.size()), dx_ref(x.size()), dA(A.size(), 0.0f), dB(B.size(), 0.0f);
  const LoraLinear<float> layer = adapted(base, A, B, dA, dB, dims);
  std::vector<float> y(n_rows * dims.n_out), xa(n_rows * dims.rank), y_ref(y.size());
  lora_linear_forward<float>(y.data(), xa.data(), layer, x.data(), nullptr, n_rows);
  dense.matmul(x.data(), y_ref.data(), n_rows);
  // fp32 sums of ≤ 6 products of magnitude ≤ 4: a few ulps of values ≤ ~30.
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], y_ref[i], 1e-5f) << i;

  lora_linear_backward<float>(dx.data(), layer, dy.data(), x.data(), nullptr, xa.data(), n_rows);
  dense.matmul_backward_input(dy.data(), dx_ref.data(), n_rows);
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dx[i], dx_ref[i], 1e-5f) << i;
}

TEST(LoraLinearTest, NullDxSkipsInputGradientButKeepsAdapterGradients) {
  const LoraDims dims{2, 2, 1, 1.0, 0.0f};
  const ReferenceWeight base({1, 0, 0, 1}, 2, 2);
  const float x[2] = {1, 2}, A[2] = {1, 1}, B[2] = {1, -1}, dy[2] = {1, 0};
  float y[2], xa[1], dA[2] = {0, 0}, dB[2] = {0, 0};
  const LoraLinear<float> layer{frozen_linear(base), A, B, dA, dB, dims};
  lora_linear_forward<float>(y, xa, layer, x, nullptr, 1);
  lora_linear_backward<float>(nullptr, layer, dy, x, nullptr, xa, 1);
  EXPECT_EQ(dB[0], 3.0f);  // dy_0 · xa = 1 · 3
  EXPECT_EQ(dB[1], 0.0f);
  EXPECT_EQ(dA[0], 1.0f);  // (dy·B) · x = 1 · (1, 2)
  EXPECT_EQ(dA[1], 2.0f);
}

// QLoRA proper: the frozen weight in NF4 with double quantization. The layer must equal a dense layer over the
// dequantized 4-bit weight plus the adapter, for a prefill-sized batch (GEMM path) and a decode-sized one.
TEST(LoraLinearTest, QloraOverNf4EqualsDequantizedBasePlusAdapter) {
  const LoraDims dims{128, 64, 8, 16.0 / 8, 0.0f};
  Rng rng(9);
  const auto w = random_floats(rng, dims.n_out * dims.n_in);
  const auto A = random_floats(rng, dims.rank * dims.n_in);
  const auto B = random_floats(rng, dims.n_out * dims.rank);
  const auto nf4 = quantize_blockwise_4bit(WeightFormat::kNF4, w.data(), dims.n_out, dims.n_in, 64, true, 256);
  std::vector<float> dequantized(w.size());
  for (int64_t o = 0; o < dims.n_out; ++o) nf4->dequantize_row(o, dequantized.data() + o * dims.n_in);
  const auto reference = make_dense_weight(WeightFormat::kF32, dequantized.data(), dims.n_out, dims.n_in);
  for (int64_t n_rows : {int64_t{3}, int64_t{20}}) {
    const auto x = random_floats(rng, n_rows * dims.n_in);
    const auto dy = random_floats(rng, n_rows * dims.n_out);
    std::vector<float> dx(x.size()), dx_ref(x.size()), dA(A.size(), 0), dB(B.size(), 0);
    std::vector<float> dA_ref(A.size(), 0), dB_ref(B.size(), 0);
    const LoraLinear<float> qlora = adapted(*nf4, A, B, dA, dB, dims);
    const LoraLinear<float> dense = adapted(*reference, A, B, dA_ref, dB_ref, dims);
    std::vector<float> y(n_rows * dims.n_out), y_ref(y.size()), xa(n_rows * dims.rank), xa_ref(xa.size());
    lora_linear_forward<float>(y.data(), xa.data(), qlora, x.data(), nullptr, n_rows);
    lora_linear_forward<float>(y_ref.data(), xa_ref.data(), dense, x.data(), nullptr, n_rows);
    // Sums of 128 products of magnitude ≤ 1 in different orders: a few 1e-6 relative of values up to ~20.
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], y_ref[i], 1e-4f) << n_rows << " " << i;
    lora_linear_backward<float>(dx.data(), qlora, dy.data(), x.data(), nullptr, xa.data(), n_rows);
    lora_linear_backward<float>(dx_ref.data(), dense, dy.data(), x.data(), nullptr, xa_ref.data(), n_rows);
    for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dx[i], dx_ref[i], 1e-4f) << n_rows << " " << i;
    for (size_t i = 0; i < dA.size(); ++i) EXPECT_NEAR(dA[i], dA_ref[i], 1e-3f) << i;  // sums over rows of ~20
    for (size_t i = 0; i < dB.size(); ++i) EXPECT_NEAR(dB[i], dB_ref[i], 1e-3f) << i;
  }
}

}  // namespace
}  // namespace pagedllm
