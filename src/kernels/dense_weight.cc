// make_dense_weight: F32/F16/BF16 matrices. Few rows stream W once through the dense_matmul_* kernels; many rows
// go through a GEMM: F32 through gemm_f32; F16/BF16 through the bf16 GEMM when the compute dtype says so
// (kernels/compute_dtype.h: matmul_compute() for matmul, training_matmul_compute() for matmul_exact and the
// backward product), else through gemm_f32 (widened while packing with AVX-512, else on tiles dequantized into a
// thread-local buffer).
//
// A BF16 matrix may instead be stored as bf16 panels (kernels/bf16_panels.h, make_bf16_panel_weight): the bf16
// GEMM reads them without packing, the streaming kernel reads them in panel order, and the fp32 paths dequantize
// tiles of them.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/bf16_panels.h"
#include "kernels/compute_dtype.h"
#include "kernels/cpu_features.h"
#include "kernels/gemm.h"
#include "kernels/generic/dense_kernels.h"
#include "kernels/weight_matrix.h"
#include "kernels/x86_avx2/dense_kernels.h"
#include "kernels/x86_avx512/bf16_panel_kernels.h"
#include "kernels/x86_avx512/dense_kernels.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

// Up to this many rows the streaming kernels beat sgemm: OpenBLAS packs all of W for every call, which costs more
// than the product itself when x has few rows (5632×2048, one thread: F32 streaming 18 ms vs sgemm 32–43 ms at 16
// rows, 49 vs 55–62 ms at 48, even at 64; F16 33 vs 38 ms at 48 against dequantized tiles).
constexpr int64_t kMaxStreamingRows = 48;
// The same crossover for dx = dy·W, whose streaming kernel loads and stores dx for every 4 rows of W
// (5632×2048 F32, one thread: 1 row stream 3.4 ms vs sgemm 6.2 ms; 4 rows 4.1 vs 5.6; 6 rows 7.5 vs 7.0).
constexpr int64_t kMaxStreamingRowsBackward = 4;
// Each streaming task covers at least this many weight bytes, so small matrices are not split into tasks that
// cost more to schedule than to compute.
constexpr int64_t kMinTaskBytes = 64 * 1024;
// Tiles dequantized for sgemm: forward uses kTileRows full rows of W; backward kTileRows × kTileColumns blocks.
constexpr int64_t kTileRows = 256;
constexpr int64_t kTileColumns = 512;

struct DenseKernels {
  decltype(&generic::dense_matmul_rows) matmul_one_row;  // n_rows == 1 (single-stream decode)
  decltype(&generic::dense_matmul_rows) matmul_rows;
  decltype(&generic::dense_matmul_t_rows) matmul_t_rows;
  decltype(&generic::dense_to_f32) to_f32;
};

// With AVX-512 one row still goes through the AVX2 kernel, which streams it slightly faster
// (x86_avx512/dense_kernels.h).
const DenseKernels& dense_kernels() {
  static const DenseKernels kernels =
      has_avx512() ? DenseKernels{avx2::dense_matmul_rows, avx512::dense_matmul_rows, avx2::dense_matmul_t_rows,
                                  avx2::dense_to_f32}
      : has_avx2_fma_f16c() ? DenseKernels{avx2::dense_matmul_rows, avx2::dense_matmul_rows,
                                           avx2::dense_matmul_t_rows, avx2::dense_to_f32}
                            : DenseKernels{generic::dense_matmul_rows, generic::dense_matmul_rows,
                                           generic::dense_matmul_t_rows, generic::dense_to_f32};
  return kernels;
}

int64_t element_size(WeightFormat format) { return format == WeightFormat::kF32 ? 4 : 2; }

float* tile_buffer(int64_t num_floats) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < num_floats) buffer.resize(num_floats);
  return buffer.data();
}

class DenseWeight final : public WeightMatrix {
 public:
  DenseWeight(WeightFormat format, const void* data, int64_t n_out, int64_t n_in, std::vector<uint8_t> owned)
      : WeightMatrix(format, n_out, n_in), data_(data), owned_(std::move(owned)) {}

  // BF16 as panels (owned).
  DenseWeight(std::unique_ptr<uint32_t[]> panels, int64_t n_out, int64_t n_in)
      : WeightMatrix(WeightFormat::kBF16, n_out, n_in), data_(nullptr), panels_(std::move(panels)) {}

  void matmul(const float* x, float* y, int64_t n_rows) const override {
    forward(x, y, n_rows, runs_bf16(matmul_compute()));
  }

  // The same kernels as matmul (dense formats make no approximation), under the training compute dtype.
  void matmul_exact(const float* x, float* y, int64_t n_rows) const override {
    forward(x, y, n_rows, runs_bf16(training_matmul_compute()));
  }

  std::optional<RowRangeProduct> row_range_product(const float* x, float* y, int64_t n_rows) const override {
    if (n_rows <= 0 || n_rows > kMaxStreamingRows) return std::nullopt;
    if (panels_ != nullptr) {
      auto kernel = has_avx512() ? avx512::bf16_panels_matmul_rows : generic::bf16_panels_matmul_rows;
      return RowRangeProduct{
          .run = [this, kernel, x, y, n_rows](int64_t begin,
                                              int64_t end) { kernel(panels_.get(), n_in(), begin, end, x, n_rows, y, n_out()); },
          .n_out = n_out(),
          .min_task_rows = (kMinTaskBytes / (n_in() * 2 * kBf16PanelColumns) + 1) * kBf16PanelColumns};
    }
    auto kernel = n_rows == 1 ? dense_kernels().matmul_one_row : dense_kernels().matmul_rows;
    return RowRangeProduct{
        .run = [this, kernel, x, y, n_rows](int64_t begin,
                                            int64_t end) { kernel(format(), data_, n_in(), begin, end, x, n_rows, y, n_out()); },
        .n_out = n_out(),
        .min_task_rows = std::max<int64_t>(4, kMinTaskBytes / (n_in() * element_size(format())) + 1)};
  }

  void matmul_backward_input(const float* dy, float* dx, int64_t n_rows) const override {
    if (n_rows <= 0) return;
    if (panels_ != nullptr) {  // a serving layout: the backward product dequantizes tiles of it
      matmul_backward_tiled(dy, dx, n_rows);
    } else if (n_rows <= kMaxStreamingRowsBackward) {
      matmul_backward_streaming(dy, dx, n_rows);
    } else if (format() == WeightFormat::kF32) {
      gemm_f32(false, n_rows, n_in(), n_out(), dy, n_out(), static_cast<const float*>(data_), n_in(), 0.0f, dx,
               n_in());
    } else if (runs_bf16(training_matmul_compute())) {
      PAGEDLLM_CHECK(gemm_bf16(format(), false, n_rows, n_in(), n_out(), dy, n_out(), data_, n_in(), 0.0f, dx, n_in()));
    } else {
      matmul_backward_tiled(dy, dx, n_rows);
    }
  }

  void dequantize_row(int64_t row, float* out) const override {
    PAGEDLLM_CHECK_MSG(row >= 0 && row < n_out(), "dequantize_row: row {} of {}", row, n_out());
    to_f32(row, row + 1, 0, n_in(), out);
  }

  size_t num_bytes() const override {
    return panels_ != nullptr ? static_cast<size_t>(bf16_panel_words(n_out(), n_in())) * sizeof(uint32_t)
                              : static_cast<size_t>(n_out() * n_in() * element_size(format()));
  }

 private:
  // y = x · Wᵀ: streamed for few rows, else a GEMM, in bf16 when `bf16` and W is 16-bit.
  void forward(const float* x, float* y, int64_t n_rows, bool bf16) const {
    if (n_rows <= 0) return;
    if (std::optional<RowRangeProduct> product = row_range_product(x, y, n_rows)) {
      if (panels_ == nullptr) {
        parallel_for(n_out(), product->min_task_rows, product->run);
      } else {  // tasks of whole panels: one ending inside a panel would leave the next to read it all again
        parallel_for(bf16_panel_count(n_out()), product->min_task_rows / kBf16PanelColumns,
                     [&](int64_t begin, int64_t end) {
                       product->run(begin * kBf16PanelColumns, std::min(n_out(), end * kBf16PanelColumns));
                     });
      }
    } else if (panels_ != nullptr) {
      if (!bf16 || !gemm_bf16_panels(n_rows, n_out(), n_in(), x, panels_.get(), y)) matmul_tiled(x, y, n_rows);
    } else if (format() == WeightFormat::kF32) {
      gemm_f32(true, n_rows, n_out(), n_in(), x, n_in(), static_cast<const float*>(data_), n_in(), 0.0f, y, n_out());
    } else if (bf16) {
      PAGEDLLM_CHECK(gemm_bf16(format(), true, n_rows, n_out(), n_in(), x, n_in(), data_, n_in(), 0.0f, y, n_out()));
    } else if (!gemm_f32_half_weight(format() == WeightFormat::kBF16, n_rows, n_out(), n_in(), x,
                                     static_cast<const uint16_t*>(data_), y)) {
      matmul_tiled(x, y, n_rows);
    }
  }

  // Each task streams a contiguous range of W's rows into its own partial dx; the partials are then summed.
  void matmul_backward_streaming(const float* dy, float* dx, int64_t n_rows) const {
    int64_t weight_bytes = n_out() * n_in() * element_size(format());
    int64_t num_parts = std::clamp<int64_t>(weight_bytes / kMinTaskBytes, 1, num_threads());
    int64_t part_size = n_rows * n_in();
    std::vector<float> partials((num_parts - 1) * part_size);
    parallel_for(num_parts, 1, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        float* target = p == 0 ? dx : partials.data() + (p - 1) * part_size;
        dense_kernels().matmul_t_rows(format(), data_, n_out(), n_in(), n_out() * p / num_parts,
                                      n_out() * (p + 1) / num_parts, dy, n_rows, target);
      }
    });
    if (num_parts == 1) return;
    parallel_for(part_size, kMinTaskBytes, [&](int64_t begin, int64_t end) {
      for (int64_t p = 1; p < num_parts; ++p) {
        const float* partial = partials.data() + (p - 1) * part_size;
        for (int64_t i = begin; i < end; ++i) dx[i] += partial[i];
      }
    });
  }

  // y[:, o0:o1] = x · W[o0:o1, :]ᵀ per tile of kTileRows rows of W, dequantized on the task's thread.
  void matmul_tiled(const float* x, float* y, int64_t n_rows) const {
    int64_t num_tiles = (n_out() + kTileRows - 1) / kTileRows;
    parallel_for(num_tiles, 1, [&](int64_t begin, int64_t end) {
      float* tile = tile_buffer(kTileRows * n_in());
      for (int64_t t = begin; t < end; ++t) {
        int64_t o0 = t * kTileRows;
        int64_t o1 = std::min(n_out(), o0 + kTileRows);
        to_f32(o0, o1, 0, n_in(), tile);
        gemm_f32_serial(true, n_rows, o1 - o0, n_in(), x, n_in(), tile, n_in(), 0.0f, y + o0, n_out());
      }
    });
  }

  // dx[:, c0:c1] = Σ over row tiles of dy[:, o0:o1] · W[o0:o1, c0:c1]; tasks own column ranges, so no reduction.
  void matmul_backward_tiled(const float* dy, float* dx, int64_t n_rows) const {
    int64_t num_tasks = (n_in() + kTileColumns - 1) / kTileColumns;
    parallel_for(num_tasks, 1, [&](int64_t begin, int64_t end) {
      float* tile = tile_buffer(kTileRows * kTileColumns);
      for (int64_t t = begin; t < end; ++t) {
        int64_t c0 = t * kTileColumns;
        int64_t c1 = std::min(n_in(), c0 + kTileColumns);
        for (int64_t o0 = 0; o0 < n_out(); o0 += kTileRows) {
          int64_t o1 = std::min(n_out(), o0 + kTileRows);
          to_f32(o0, o1, c0, c1, tile);
          gemm_f32_serial(false, n_rows, c1 - c0, o1 - o0, dy + o0, n_out(), tile, c1 - c0, o0 == 0 ? 0.0f : 1.0f,
                          dx + c0, n_in());
        }
      }
    });
  }

  // W[o0:o1, c0:c1] as fp32, row-major.
  void to_f32(int64_t o0, int64_t o1, int64_t c0, int64_t c1, float* out) const {
    if (panels_ != nullptr) {
      bf16_panels_to_f32(panels_.get(), n_in(), o0, o1, c0, c1, out);
    } else {
      dense_kernels().to_f32(format(), data_, n_in(), o0, o1, c0, c1, out);
    }
  }

  const void* data_;  // row-major, or null with panels
  std::vector<uint8_t> owned_;
  std::unique_ptr<uint32_t[]> panels_;
};

}  // namespace

std::unique_ptr<WeightMatrix> make_dense_weight(WeightFormat format, const void* data, int64_t n_out, int64_t n_in,
                                                std::vector<uint8_t> owned) {
  if (format != WeightFormat::kF32 && format != WeightFormat::kF16 && format != WeightFormat::kBF16) {
    throw_error(ErrorKind::kInvalidArgument, "make_dense_weight: format {} is not dense (F32, F16 or BF16)",
                weight_format_name(format));
  }
  if (n_out <= 0 || n_in <= 0) {
    throw_error(ErrorKind::kInvalidArgument, "make_dense_weight: shape ({}, {}) must be positive", n_out, n_in);
  }
  if (data == nullptr) throw_error(ErrorKind::kInvalidArgument, "make_dense_weight: data is null");
  if (!owned.empty()) {
    auto begin = reinterpret_cast<uintptr_t>(data);
    auto owned_begin = reinterpret_cast<uintptr_t>(owned.data());
    size_t needed = static_cast<size_t>(n_out * n_in * element_size(format));
    if (begin < owned_begin || begin - owned_begin > owned.size() || owned.size() - (begin - owned_begin) < needed) {
      throw_error(ErrorKind::kInvalidArgument, "make_dense_weight: ({}, {}) {} needs {} bytes inside the owned buffer",
                  n_out, n_in, weight_format_name(format), needed);
    }
  }
  return std::make_unique<DenseWeight>(format, data, n_out, n_in, std::move(owned));
}

std::unique_ptr<WeightMatrix> make_bf16_panel_weight(const uint16_t* data, int64_t n_out, int64_t n_in) {
  if (n_out <= 0 || n_in <= 0) {
    throw_error(ErrorKind::kInvalidArgument, "make_bf16_panel_weight: shape ({}, {}) must be positive", n_out, n_in);
  }
  if (data == nullptr) throw_error(ErrorKind::kInvalidArgument, "make_bf16_panel_weight: data is null");
  std::unique_ptr<uint32_t[]> panels(new uint32_t[static_cast<size_t>(bf16_panel_words(n_out, n_in))]);
  pack_bf16_panels(data, n_out, n_in, panels.get());
  return std::make_unique<DenseWeight>(std::move(panels), n_out, n_in);
}

bool bf16_panels_pay_off() { return runs_bf16(matmul_compute()) && !has_amx_bf16(); }

}  // namespace pagedllm
