// The blocking of the int8 GEMM (quant/int8_gemm.h); the kernels are generic/, x86_avx512/ and kernels/amx/.
#include "quant/int8_gemm.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu_features.h"
#include "quant/generic/int8_gemm_kernels.h"
#include "quant/quant_kernels.h"
#include "quant/x86_avx512/int8_gemm_kernels.h"
#include "util/spread_prefetch.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

// K per block: 16 groups (512 values), so that one panel (16 KiB of weights) stays in Zen 4's 32 KiB L1 while the input
// rows stream past it, and a multiple of 64 as an AMX tile's K needs.
constexpr int64_t kBlockGroups = 16;
// Weight rows per pool task: 4 panels (64 KiB of a block), fewer when that would leave a thread idle.
constexpr int64_t kMaxTaskCols = 4 * kInt8PanelCols;
// Input rows per sweep of a panel: their levels of one block (256 × 512 bytes) stay in L2 across the task's panels.
// A multiple of 16, so that only the last sweep can end in a ragged AMX tile.
constexpr int64_t kRowsPerSweep = 256;

int64_t task_cols(int64_t n_out) {
  const int64_t per_thread = (n_out + num_threads() - 1) / num_threads();
  const int64_t panels = std::max<int64_t>(1, (per_thread + kInt8PanelCols - 1) / kInt8PanelCols);
  return std::min(kMaxTaskCols, panels * kInt8PanelCols);
}

int64_t blocks_of(int64_t num_values, int64_t block_size) { return (num_values + block_size - 1) / block_size; }

// The stored bytes of weight rows [j0, j0 + cols) over groups [g0, g0 + num_groups), as a strided region: where the
// next block's pack will read.
SpreadPrefetch weight_block_prefetch(const Int8GemmWeights& w, int64_t j0, int64_t cols, int64_t g0,
                                     int64_t num_groups, int64_t calls) {
  const auto* data = static_cast<const char*>(w.data);
  if (num_groups <= 0) return SpreadPrefetch(nullptr, 0, 0, 0, calls);
  switch (w.layout) {
    case Int8GemmWeights::Layout::kFourBit:  // two codes a byte, rows n_in / 2 bytes apart
      return SpreadPrefetch(data + (j0 * w.n_in + 32 * g0) / 2, w.n_in / 2, cols, 16 * num_groups, calls);
    case Int8GemmWeights::Layout::kInt8Rows:
      return SpreadPrefetch(data + j0 * w.n_in + 32 * g0, w.n_in, cols, 32 * num_groups, calls);
    case Int8GemmWeights::Layout::kQ8_0:  // 34-byte blocks of 32 values
      return SpreadPrefetch(data + (j0 * w.n_in / 32 + g0) * 34, w.n_in / 32 * 34, cols, 34 * num_groups, calls);
  }
  return SpreadPrefetch(nullptr, 0, 0, 0, calls);
}

}  // namespace

Int8GemmActivations::Int8GemmActivations(const float* x, int64_t n_in_, int64_t n_rows)
    : n_in(n_in_),
      levels(static_cast<size_t>(n_rows * n_in_)),
      steps(static_cast<size_t>(n_rows * n_in_ / 32)),
      starts(static_cast<size_t>(n_rows * n_in_ / 32)) {
  const int64_t groups = n_in / 32;
  parallel_for(n_rows, 16, [&](int64_t begin, int64_t end) {
    make_q8_activations(x + begin * n_in, n_in, end - begin, Q8Order::kNatural, levels.data() + begin * n_in,
                        steps.data() + begin * groups);
    for (int64_t g = begin * groups; g < end * groups; ++g) {
      int32_t sum = 0;
      for (int i = 0; i < 32; ++i) sum += levels[static_cast<size_t>(32 * g + i)];
      starts[static_cast<size_t>(g)] = -128 * sum;
    }
  });
}

namespace {

static_assert(kInt8PanelCols == 32 && kAmxInt8TileRows == 16, "amx::gemm_s8u8_groups' panel and tile shapes");

template <amx::TileBackend kBackend>
void amx_int8_tile(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels,
                   int64_t ld_levels, const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols, float* c,
                   int64_t ldc, bool accumulate) {
  amx::gemm_s8u8_groups(kBackend, num_rows, panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups,
                        num_cols, c, ldc, accumulate);
}

template <amx::TileBackend kBackend>
Int8GemmKernels amx_kernels() {
  return {has_avx512_vnni() ? &avx512::pack_int8_panel : &generic::pack_int8_panel, &amx_int8_tile<kBackend>,
          kAmxInt8TileRows};
}

}  // namespace

const Int8GemmKernels& int8_gemm_kernels_amx(amx::TileBackend backend) {
  static const Int8GemmKernels hardware = amx_kernels<amx::TileBackend::kHardware>();
  static const Int8GemmKernels emulated = amx_kernels<amx::TileBackend::kEmulated>();
  return backend == amx::TileBackend::kHardware ? hardware : emulated;
}

const Int8GemmKernels& int8_gemm_kernels(bool allow_simd) {
  static const Int8GemmKernels portable{&generic::pack_int8_panel, &generic::int8_tile, kInt8MaxTileRows};
  static const Int8GemmKernels vnni{&avx512::pack_int8_panel, &avx512::int8_tile, kInt8MaxTileRows};
  if (!allow_simd) return portable;
  if (has_amx_int8()) return int8_gemm_kernels_amx(amx::TileBackend::kHardware);
  return has_avx512_vnni() ? vnni : portable;
}

void int8_gemm(const Int8GemmWeights& w, const Int8GemmKernels& kernels, const float* x, float* y, int64_t n_rows) {
  if (n_rows <= 0) return;
  const Int8GemmActivations a(x, w.n_in, n_rows);
  const int64_t groups = w.n_in / 32;
  const int64_t cols_per_task = task_cols(w.n_out);
  const int64_t num_tasks = (w.n_out + cols_per_task - 1) / cols_per_task;
  const bool four_bit = w.layout == Int8GemmWeights::Layout::kFourBit;
  parallel_for(num_tasks, 1, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> panels(static_cast<size_t>(cols_per_task * kBlockGroups * 32));
    std::vector<float> steps(static_cast<size_t>(cols_per_task * kBlockGroups));
    std::vector<float> absmax;
    for (int64_t t = begin; t < end; ++t) {
      const int64_t j0 = t * cols_per_task;
      const int64_t cols = std::min(cols_per_task, w.n_out - j0);
      const int64_t num_panels = (cols + kInt8PanelCols - 1) / kInt8PanelCols;
      // The task's absmax constants, decoded once (double-quantized ones cost a table lookup each).
      int64_t first_block = 0;
      if (four_bit) {
        first_block = j0 * w.n_in / w.block_size;
        const int64_t count = blocks_of((j0 + cols) * w.n_in, w.block_size) - first_block;
        absmax.resize(static_cast<size_t>(count));
        w.block_absmax(first_block, count, absmax.data());
      }
      for (int64_t g0 = 0; g0 < groups; g0 += kBlockGroups) {
        const int64_t block_groups = std::min(kBlockGroups, groups - g0);
        const int64_t panel_bytes = block_groups * 32 * kInt8PanelCols;
        const int64_t panel_steps = block_groups * kInt8PanelCols;
        for (int64_t p = 0; p < num_panels; ++p) {
          kernels.pack(w, four_bit ? absmax.data() : nullptr, first_block, j0 + p * kInt8PanelCols, g0, block_groups,
                       panels.data() + p * panel_bytes, steps.data() + p * panel_steps);
        }
        // The next block's weights (this task's next groups, else the next task's first) arrive while the tiles run.
        const int64_t tile_calls = (n_rows + kernels.max_tile_rows - 1) / kernels.max_tile_rows * num_panels;
        SpreadPrefetch prefetch =
            g0 + kBlockGroups < groups
                ? weight_block_prefetch(w, j0, cols, g0 + kBlockGroups, std::min(kBlockGroups, groups - g0 - kBlockGroups),
                                        tile_calls)
                : weight_block_prefetch(w, j0 + cols_per_task, t + 1 < end ? std::min(cols_per_task, w.n_out - j0 - cols_per_task) : 0,
                                        0, std::min(kBlockGroups, groups), tile_calls);
        for (int64_t r0 = 0; r0 < n_rows; r0 += kRowsPerSweep) {
          const int64_t sweep_rows = std::min(kRowsPerSweep, n_rows - r0);
          for (int64_t p = 0; p < num_panels; ++p) {
            const int num_cols = static_cast<int>(std::min(kInt8PanelCols, cols - p * kInt8PanelCols));
            for (int64_t r = r0; r < r0 + sweep_rows; r += kernels.max_tile_rows) {
              prefetch.step();
              const int num_tile_rows = static_cast<int>(std::min<int64_t>(kernels.max_tile_rows, r0 + sweep_rows - r));
              kernels.tile(num_tile_rows, panels.data() + p * panel_bytes, steps.data() + p * panel_steps, block_groups,
                           a.levels.data() + r * w.n_in + 32 * g0, w.n_in, a.steps.data() + r * groups + g0,
                           a.starts.data() + r * groups + g0, groups, num_cols,
                           y + r * w.n_out + j0 + p * kInt8PanelCols, w.n_out, g0 > 0);
            }
          }
        }
      }
    }
  });
}

}  // namespace pagedllm
