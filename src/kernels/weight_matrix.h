// A frozen weight matrix W of shape (n_out, n_in), row-major, in one of several storage formats, with the two
// products every linear layer needs:
//   forward:   y[n_rows, n_out]  = x[n_rows, n_in] · Wᵀ
//   backward:  dx[n_rows, n_in]  = dy[n_rows, n_out] · W      (training: the gradient through a frozen weight)
// Decode (few rows) must stream each weight byte once for all rows, dequantizing in registers; prefill (many rows)
// may dequantize tiles into a GEMM. No implementation keeps an fp32 copy of a quantized weight.
//
// Thread-safety: const methods may be called concurrently; they use the process thread pool internally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pagedllm {

enum class WeightFormat { kF32, kF16, kBF16, kQ8_0, kInt8, kNF4, kFP4, kInt4 };

const char* weight_format_name(WeightFormat format);

// A decode product y = x · Wᵀ with its input already prepared (8-bit activations, kernel choice), split into
// independent ranges of W's rows: run(begin, end) writes y[:, begin:end) and may be called from any pool thread, for
// disjoint ranges at once. matmul_group (kernels/matmul_group.h) runs several of them as one pool job.
struct RowRangeProduct {
  std::function<void(int64_t begin, int64_t end)> run;
  int64_t n_out = 0;
  int64_t min_task_rows = 1;  // fewer rows than this per task cost more to schedule than to compute
};

class WeightMatrix {
 public:
  virtual ~WeightMatrix() = default;

  WeightFormat format() const { return format_; }
  int64_t n_out() const { return n_out_; }
  int64_t n_in() const { return n_in_; }

  // y = x · Wᵀ. x: (n_rows, n_in), y: (n_rows, n_out), both row-major fp32. y is assigned, not accumulated.
  virtual void matmul(const float* x, float* y, int64_t n_rows) const = 0;

  // matmul as row ranges when n_rows takes the streaming (decode) kernels; nullopt when it takes a GEMM. x and y must
  // stay valid until the last run() returns.
  virtual std::optional<RowRangeProduct> row_range_product(const float* x, float* y, int64_t n_rows) const {
    (void)x, (void)y, (void)n_rows;
    return std::nullopt;
  }

  // The same product without approximations a format's fast kernels may make (see QuantizedWeight); training
  // uses it. Dense formats have none.
  virtual void matmul_exact(const float* x, float* y, int64_t n_rows) const { matmul(x, y, n_rows); }

  // dx = dy · W. dy: (n_rows, n_out), dx: (n_rows, n_in). dx is assigned, not accumulated.
  virtual void matmul_backward_input(const float* dy, float* dx, int64_t n_rows) const = 0;

  // Row `row` of W as fp32 (n_in values): the reference for tests, merges and the embedding lookup.
  virtual void dequantize_row(int64_t row, float* out) const = 0;

  // Bytes of weight storage this matrix holds or maps, including scales and other constants.
  virtual size_t num_bytes() const = 0;

 protected:
  WeightMatrix(WeightFormat format, int64_t n_out, int64_t n_in) : format_(format), n_out_(n_out), n_in_(n_in) {}

 private:
  WeightFormat format_;
  int64_t n_out_;
  int64_t n_in_;
};

// A dense F32, F16 or BF16 matrix over `data` (row-major, little-endian). When `owned` is non-empty the matrix
// keeps it alive and `data` must point into it; otherwise `data` is borrowed (a memory-mapped checkpoint) and must
// outlive the matrix.
std::unique_ptr<WeightMatrix> make_dense_weight(WeightFormat format, const void* data, int64_t n_out, int64_t n_in,
                                                std::vector<uint8_t> owned = {});

// A BF16 matrix copied from row-major `data` (which it does not keep) into bf16 panels (kernels/bf16_panels.h): the
// serving layout where bf16_panels_pay_off(). Every WeightMatrix operation gives what the row-major matrix gives
// (the bf16 GEMM the same bits; the streaming kernels the same fp32 products summed in another order).
std::unique_ptr<WeightMatrix> make_bf16_panel_weight(const uint16_t* data, int64_t n_out, int64_t n_in);

// Whether serving should store BF16 matrices as panels: the many-row products run on AVX512-BF16 (not AMX, whose
// tiles pack their own layout from row-major W, and not fp32, which would dequantize the panels in every product).
bool bf16_panels_pay_off();

}  // namespace pagedllm
