// The common base of the quantized weight formats: it owns the choice between the decode path (few input rows:
// each format's fused kernel streams every weight byte once for all rows) and the GEMM path (many rows: tiles of W
// are dequantized into a per-task fp32 buffer of at most kTileElements floats and multiplied by the bf16
// GEMM when the compute dtype says so (kernels/compute_dtype.h: matmul_compute() for matmul,
// training_matmul_compute() for matmul_exact and the backward product), else by gemm_f32), and the training product
// dx = dy · W, always by tiles, likewise. No fp32 copy of the whole matrix is ever made.
//
// Thread-safety: immutable after construction; const methods may run concurrently, each using the thread pool
// (they must not be called from inside a parallel_for task).
#pragma once

#include <cstdint>
#include <optional>

#include "kernels/compute_dtype.h"
#include "kernels/weight_matrix.h"
#include "quant/int8_gemm.h"

namespace pagedllm {

class QuantizedWeight : public WeightMatrix {
 public:
  // Inputs with at most this many rows take the fused decode kernels; more take the dequantize-tile GEMM.
  static constexpr int64_t kMaxDecodeRows = 8;
  // The same limit where the decode kernels are the AVX-512 VNNI ones on 8-bit activations: they stream W once for
  // all rows at any count, while the GEMM path first dequantizes all of W into fp32 tiles, which costs as much as a
  // 30-row product. TinyLlama's MLP shapes, 2 threads, Intel AVX-512 (bench quant): 16 rows 1.6-3.4 ms against
  // 6-12 ms by GEMM, 64 rows 6.5-13 ms against 10-19 ms; at 128 rows Q8_0 is faster by GEMM.
  static constexpr int64_t kMaxVnniDecodeRows = 64;
  // The limit where past it the int8 GEMM runs (takes_int8_gemm()): it reads W once too, then multiplies from
  // packed panels with a register tile, and overtakes the decode kernels between 16 and 32 rows. quant_gemm_bench,
  // TinyLlama's MLP shapes, 1 thread, Zen 4 on a loaded host (best of 2 × 5 calls, ms decode → int8 GEMM):
  // 16 rows NF4+DQ 2.30 → 2.31 and 2.44 → 2.56, Q8_0 3.92 → 2.84 and 5.68 → 3.39, INT8 2.13 → 2.62 and 4.26 → 4.92;
  // 32 rows NF4+DQ 6.77 → 4.56 and 8.52 → 4.02, Q8_0 12.8 → 7.2 and 12.4 → 6.4, INT8 4.43 → 7.49 and 5.07 → 3.85;
  // 64 rows NF4+DQ 16.6 → 8.5 and 21.0 → 6.0, Q8_0 29.2 → 11.2 and 29.5 → 13.1, INT8 9.2 → 7.5 and 8.8 → 9.9.
  static constexpr int64_t kMaxDecodeRowsBeforeInt8Gemm = 16;
  // Which of the limits this matrix's matmul uses (the last two only where the CPU runs the VNNI kernels).
  int64_t max_decode_rows() const {
    return takes_int8_gemm() ? kMaxDecodeRowsBeforeInt8Gemm : vnni_decode() ? kMaxVnniDecodeRows : kMaxDecodeRows;
  }
  // Whether matmul past max_decode_rows() runs the int8 GEMM (quant/int8_gemm.h) instead of dequantized tiles: where
  // the CPU has VNNI, the shape takes 8-bit activations and the tiles would multiply in bf16 (matmul_compute()), whose
  // rounding (2^-8 per operand) is of the order of the 8-bit activations' (max|x| / 254 per value); with fp32 tiles
  // chosen (--dtype float32, PAGEDLLM_NO_BF16=1) many-row products stay fp32 as before. The GEMM is 2-3× faster than
  // the bf16 tiles at every measured shape (quant_gemm_bench, TinyLlama's MLP shapes, 64-512 rows, 2 threads, Zen 4,
  // loaded host: NF4+DQ 186-341 against 81-172 GOP/s, Q8_0 216-388 against 44-134, INT8 177-301 against 69-146),
  // so no shape keeps the tiles.
  bool takes_int8_gemm() const { return vnni_decode() && runs_bf16(matmul_compute()); }
  // GEMM tiles: each tile's product repacks its slice of x (rounding it to bf16), once per tile of W's rows, so tiles
  // are made as tall as 1 MiB of fp32 W allows at a width of 256, while still giving every thread work; see
  // tile_rows(), tile_cols() and backward_tile_cols(). (256-row tiles repacked x 6 times for a 1,536-row SmolLM2
  // matrix: 4% of a fine-tuning step.)
  static constexpr int64_t kTileElements = 256 * 1024;
  static constexpr int64_t kMaxTileRows = 1024;
  static constexpr int64_t kMinTileRows = 16;

  void matmul(const float* x, float* y, int64_t n_rows) const override;
  void matmul_backward_input(const float* dy, float* dx, int64_t n_rows) const override;
  void dequantize_row(int64_t row, float* out) const override;

  // The GEMM path regardless of n_rows (tests compare it with the decode path), its tiles multiplied in bf16 when
  // `bf16` and the CPU has AVX512-BF16, else in fp32.
  void matmul_gemm(const float* x, float* y, int64_t n_rows, bool bf16) const;
  // The int8 GEMM (quant/int8_gemm.h) regardless of n_rows, with the VNNI kernels when `allow_simd` and the CPU has
  // them, else the portable ones. Only where int8_gemm_weights() has a value.
  void matmul_int8(const float* x, float* y, int64_t n_rows, bool allow_simd) const;
  // This matrix as the int8 GEMM reads it; nullopt where the 8-bit activations do not apply (n_in % 32, a 4-bit
  // block size that is not a multiple of 32, PAGEDLLM_EXACT_QUANT_DECODE=1).
  virtual std::optional<Int8GemmWeights> int8_gemm_weights() const = 0;
  // matmul without the 8-bit activations of the fast decode kernels (quant/quant_kernels.h): training uses it so
  // that its forward is the exact product its backward differentiates.
  void matmul_exact(const float* x, float* y, int64_t n_rows) const override;
  // The fused decode path regardless of n_rows; `allow_avx2` false forces the portable kernels, and
  // `allow_q8_activations` false the fp32-activation ones.
  void matmul_decode(const float* x, float* y, int64_t n_rows, bool allow_avx2, bool allow_q8_activations) const;
  // matmul's decode path as row ranges (up to max_decode_rows() rows), for matmul_group.
  std::optional<RowRangeProduct> row_range_product(const float* x, float* y, int64_t n_rows) const override;
  // What matmul_decode runs: the input prepared for the chosen kernels, and the product over a range of W's rows.
  virtual RowRangeProduct decode_product(const float* x, float* y, int64_t n_rows, bool allow_avx2,
                                         bool allow_q8_activations) const = 0;

  // W[row0 : row0 + num_rows, col0 : col0 + num_cols] as fp32 into out (leading dimension ld). col0 is a multiple of
  // column_alignment(), and num_cols is too unless the tile ends at n_in.
  virtual void dequantize_tile(int64_t row0, int64_t num_rows, int64_t col0, int64_t num_cols, float* out,
                               int64_t ld) const = 0;
  // Tiles start at and span multiples of this many columns: 2 for 4-bit (a byte holds two values), 32 for Q8_0
  // (its blocks run along n_in), 1 for INT8.
  virtual int64_t column_alignment() const = 0;

 protected:
  using WeightMatrix::WeightMatrix;

  // True where decode_product with 8-bit activations runs the AVX-512 VNNI kernels.
  virtual bool vnni_decode() const = 0;

  // Tile width: what kTileElements leaves beside tile_rows(), rounded down to whole blocks, at least one block.
  int64_t tile_cols() const;
  // Rows of W per forward tile: at most kMaxTileRows, and small enough that the tiles split evenly over the threads.
  int64_t tile_rows() const;
  // Columns of dx per backward task: 256 to 1024 whole blocks, so that every thread gets a task.
  int64_t backward_tile_cols() const;
};

}  // namespace pagedllm
