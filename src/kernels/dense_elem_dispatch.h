// The one switch from a dense WeightFormat to the element type a kernel file defines for it (each instruction set
// has its own loaders, so the types are template parameters).
#pragma once

#include "kernels/weight_matrix.h"
#include "util/error.h"

namespace pagedllm {

// Calls fn(F32Elem{}), fn(F16Elem{}) or fn(BF16Elem{}) for `format`; any other format is a bug in the caller.
template <class F32Elem, class F16Elem, class BF16Elem, class Fn>
void with_dense_elem(WeightFormat format, Fn&& fn) {
  switch (format) {
    case WeightFormat::kF32: return fn(F32Elem{});
    case WeightFormat::kF16: return fn(F16Elem{});
    case WeightFormat::kBF16: return fn(BF16Elem{});
    default: PAGEDLLM_CHECK_MSG(false, "dense kernel called with format {}", weight_format_name(format));
  }
}

}  // namespace pagedllm
