#include "kernels/x86_avx512/amx_bf16_packing.h"

#include "kernels/x86_avx512/amx_bf16_packing_impl.h"

namespace pagedllm::avx512 {
namespace {

struct IntegerRounding {
  static __m256i to_bf16(__m512 v) { return bf16_by_integer_rounding(v); }
};

}  // namespace

const amx::Bf16Packers& amx_bf16_packers() {
  static const amx::Bf16Packers packers{&pack_a_lanes<IntegerRounding>, &pack_b_lanes<IntegerRounding>};
  return packers;
}

}  // namespace pagedllm::avx512
