// Splits the input rows of a decode kernel into tiles of at most kMaxDecodeTile rows, with the tile height as a
// compile-time constant so that each kernel keeps its per-row accumulators in registers.
#pragma once

#include <cstdint>
#include <type_traits>

#include "quant/quant_kernels.h"

namespace pagedllm {

// Calls kernel(R, r) for the tiles [r, r + R) of at most kMaxDecodeTile input rows.
template <class Kernel>
void for_row_tiles(int64_t n_rows, Kernel&& kernel) {
  for (int64_t r = 0; r < n_rows; r += kMaxDecodeTile) {
    switch (n_rows - r < kMaxDecodeTile ? n_rows - r : kMaxDecodeTile) {
      case 1: kernel(std::integral_constant<int, 1>{}, r); break;
      case 2: kernel(std::integral_constant<int, 2>{}, r); break;
      case 3: kernel(std::integral_constant<int, 3>{}, r); break;
      default: kernel(std::integral_constant<int, 4>{}, r); break;
    }
  }
}
static_assert(kMaxDecodeTile == 4, "for_row_tiles instantiates tiles of 1 to 4 rows");

}  // namespace pagedllm
