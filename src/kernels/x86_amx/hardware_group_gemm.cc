// The per-group int8 tile (amx/amx_gemm.h, gemm_s8u8_groups) on the tile instructions. Its own translation unit so
// that it alone is compiled with AVX-512 and FMA besides AMX (kernels/CMakeLists.txt): the fp32 scaling between the
// tile stores is the shared code of amx/tile_gemm.h, and std::fma then becomes one instruction instead of a libm call.
// It emits only internal functions and this entry point (no weak symbol), so the linker cannot hand an AVX-512 copy
// of a shared inline function to the probe, which runs on any CPU.
#include "kernels/amx/tile_gemm.h"
#include "kernels/x86_amx/hardware_gemm.h"
#include "kernels/x86_amx/hardware_tiles.h"

namespace pagedllm::amx::hardware {

void gemm_s8u8_groups(int num_rows, const uint8_t* panel, const float* steps, int64_t num_groups, const int8_t* levels,
                      int64_t ld_levels, const float* xd, const int32_t* starts, int64_t ld_groups, int num_cols,
                      float* c, int64_t ldc, bool accumulate) {
  gemm_s8u8_groups_tiles<HardwareTiles>(num_rows, panel, steps, num_groups, levels, ld_levels, xd, starts, ld_groups,
                                        num_cols, c, ldc, accumulate);
}

}  // namespace pagedllm::amx::hardware
