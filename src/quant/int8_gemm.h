// Many-row products of quantized weights in int8 (issue 16): y = x · Wᵀ with x quantized once per product to the
// decode kernels' 8-bit activations (quant_kernels.h: groups of 32 values, d = max|x| / 127, levels round(x / d))
// and W's int8 values (INT8 and Q8_0 levels, 4-bit codes as round(127 · code value)) decoded per cache block into
// packed panels that every input row reuses. Each (input row, weight row, group of 32) gives the same exact integer
// sum as the decode kernels, scaled by the same steps (d · absmax / 127 for 4-bit, d · f16 scale for Q8_0, d · row
// scale for INT8), so the result matches the decode kernels up to fp32 rounding and carries their bound against the
// fp32 product.
//
// Blocking (GotoBLAS' loop order, int8_gemm.cc): pool tasks of up to 4 panels of kInt8PanelCols weight rows; a task
// walks K in blocks of 16 groups, decodes its rows' block into panels (kept in L2, each in L1 while it is used), then
// sweeps the input rows the kernels' max_tile_rows at a time through the micro-kernel, which holds a (rows ×
// kInt8PanelCols) tile of accumulators (VNNI: in registers; AMX: 16 rows, the sums of each group from two int32 tiles)
// and adds it into y.
//
// The packed layouts (what a micro-kernel reads, whatever the instruction set):
//   panel:      (groups × 8 × kInt8PanelCols × 4) bytes: for group g and quad q of its 32 values, weight row c's
//               values 32g + 4q .. 32g + 4q + 3 as unsigned bytes w + 128 at panel[((8g + q) · kInt8PanelCols + c) · 4];
//   steps:      (groups × kInt8PanelCols) floats: the weight step of row c in group g at steps[g · kInt8PanelCols + c];
//   input rows: levels (int8, natural order, n_in per input row), xd (n_in / 32 per row) and starts (-128 · Σ of the
//               group's 32 levels, so that a lane started there ends at Σ w · x exactly).
// A weight row past n_out (the last panel of a matrix) packs as zeros with step 0.
//
// Thread-safety: int8_gemm runs on the pool and must not be called from inside a parallel_for task.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/amx/amx_gemm.h"

namespace pagedllm {

constexpr int64_t kInt8PanelCols = 32;  // weight rows per packed panel: two 16-lane vectors
constexpr int kInt8MaxTileRows = 6;     // VNNI input rows per micro-kernel call (6 × 2 int32 + 6 × 2 fp32 registers)
constexpr int kAmxInt8TileRows = 16;    // AMX input rows per call: the rows of an int8 tile

// What the int8 GEMM needs to know of a quantized matrix (borrowed pointers: the matrix outlives the product).
struct Int8GemmWeights {
  enum class Layout { kFourBit, kInt8Rows, kQ8_0 };
  Layout layout = Layout::kInt8Rows;
  const void* data = nullptr;  // 4-bit codes (bitsandbytes order), INT8 values or Q8_0 34-byte blocks
  int64_t n_out = 0;
  int64_t n_in = 0;  // a multiple of 32
  // 4-bit: the 16 code values as int8 (code_values_int8) and the absmax blocks (block_size % 32 == 0).
  const int8_t* code_values = nullptr;
  int64_t block_size = 0;
  std::function<void(int64_t first_block, int64_t count, float* out)> block_absmax;
  // INT8: one scale per weight row.
  const float* row_scales = nullptr;
};

// The 8-bit input of one product (n_rows × n_in levels, n_rows × n_in / 32 steps and starts), quantized on the pool.
struct Int8GemmActivations {
  Int8GemmActivations(const float* x, int64_t n_in, int64_t n_rows);
  int64_t n_in;
  std::vector<int8_t> levels;
  std::vector<float> steps;
  std::vector<int32_t> starts;
};

// The ISA-specific pieces; generic/int8_gemm_kernels.h is the portable reference of both,
// x86_avx512/int8_gemm_kernels.h the VNNI version, and amx::gemm_s8u8_groups (kernels/amx/amx_gemm.h) an AMX-INT8
// tile over the same panels.
struct Int8GemmKernels {
  // Packs weight rows [j0, j0 + kInt8PanelCols) over groups [g0, g0 + num_groups) into panel and steps (layouts above).
  // absmax holds the 4-bit blocks from first_block on (nullptr for the other layouts).
  void (*pack)(const Int8GemmWeights& w, const float* absmax, int64_t first_block, int64_t j0, int64_t g0,
               int64_t num_groups, uint8_t* panel, float* steps);
  // c[r · ldc + col] (+)= Σ_g float(Σ_{i in g} w · x) · (step · xd) for r < num_rows (≤ max_tile_rows), col <
  // num_cols (≤ kInt8PanelCols), the group terms added in order with one fused multiply-add each; assigns when
  // !accumulate. levels/xd/starts point at the first input row's first group of this block, rows ld_levels and
  // ld_groups apart.
  void (*tile)(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels,
               int64_t ld_levels, const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols, float* c,
               int64_t ldc, bool accumulate);
  int max_tile_rows;  // input rows per tile call (the tile's register blocking)
};

// y (n_rows, n_out) = x (n_rows, n_in) · Wᵀ with the given kernels, on the pool.
void int8_gemm(const Int8GemmWeights& w, const Int8GemmKernels& kernels, const float* x, float* y, int64_t n_rows);

// The kernels this CPU runs: AMX where has_amx_int8(), else VNNI where has_avx512_vnni(), else the portable ones.
const Int8GemmKernels& int8_gemm_kernels(bool allow_simd);

// The AMX-INT8 kernels on either tile backend, whatever the CPU (kHardware fails a CHECK in the first tile call
// without has_amx_int8()): the tests' way to the emulated tiles, which dispatch never picks. Packing: VNNI's where
// has_avx512_vnni(), else the portable one (the same bytes).
const Int8GemmKernels& int8_gemm_kernels_amx(amx::TileBackend backend);

}  // namespace pagedllm
