#include "kernels/generic/dense_kernels.h"

#include <utility>

#include "kernels/dense_elem_dispatch.h"
#include "util/error.h"
#include "util/half.h"

namespace pagedllm::generic {
namespace {

struct F32Elem {
  using Storage = float;
  static float load(const float* p) { return *p; }
};
struct F16Elem {
  using Storage = uint16_t;
  static float load(const uint16_t* p) { return f16_to_f32(*p); }
};
struct BF16Elem {
  using Storage = uint16_t;
  static float load(const uint16_t* p) { return bf16_to_f32(*p); }
};

template <class Fn>
void with_elem(WeightFormat format, Fn&& fn) {
  with_dense_elem<F32Elem, F16Elem, BF16Elem>(format, std::forward<Fn>(fn));
}

template <class Elem>
void matmul_rows(const typename Elem::Storage* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                 const float* x, int64_t n_rows, float* y, int64_t ldy) {
  for (int64_t o = row_begin; o < row_end; ++o) {
    const auto* w_row = w + o * n_in;
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* x_row = x + r * n_in;
      float sum = 0.0f;
      for (int64_t i = 0; i < n_in; ++i) sum += x_row[i] * Elem::load(w_row + i);
      y[r * ldy + o] = sum;
    }
  }
}

template <class Elem>
void matmul_t_rows(const typename Elem::Storage* w, int64_t n_out, int64_t n_in, int64_t row_begin, int64_t row_end,
                   const float* dy, int64_t n_rows, float* dx) {
  for (int64_t i = 0; i < n_rows * n_in; ++i) dx[i] = 0.0f;
  for (int64_t o = row_begin; o < row_end; ++o) {
    const auto* w_row = w + o * n_in;
    for (int64_t r = 0; r < n_rows; ++r) {
      float g = dy[r * n_out + o];
      float* dx_row = dx + r * n_in;
      for (int64_t c = 0; c < n_in; ++c) dx_row[c] += g * Elem::load(w_row + c);
    }
  }
}

}  // namespace

void dense_matmul_rows(WeightFormat format, const void* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                       const float* x, int64_t n_rows, float* y, int64_t ldy) {
  with_elem(format, [&](auto elem) {
    using Elem = decltype(elem);
    matmul_rows<Elem>(static_cast<const typename Elem::Storage*>(w), n_in, row_begin, row_end, x, n_rows, y, ldy);
  });
}

void dense_matmul_t_rows(WeightFormat format, const void* w, int64_t n_out, int64_t n_in, int64_t row_begin,
                         int64_t row_end, const float* dy, int64_t n_rows, float* dx) {
  with_elem(format, [&](auto elem) {
    using Elem = decltype(elem);
    matmul_t_rows<Elem>(static_cast<const typename Elem::Storage*>(w), n_out, n_in, row_begin, row_end, dy, n_rows,
                        dx);
  });
}

void dense_to_f32(WeightFormat format, const void* w, int64_t n_in, int64_t row_begin, int64_t row_end,
                  int64_t col_begin, int64_t col_end, float* out) {
  with_elem(format, [&](auto elem) {
    using Elem = decltype(elem);
    const auto* wt = static_cast<const typename Elem::Storage*>(w);
    int64_t n_cols = col_end - col_begin;
    for (int64_t o = row_begin; o < row_end; ++o) {
      for (int64_t c = col_begin; c < col_end; ++c) out[(o - row_begin) * n_cols + (c - col_begin)] = Elem::load(wt + o * n_in + c);
    }
  });
}

}  // namespace pagedllm::generic
