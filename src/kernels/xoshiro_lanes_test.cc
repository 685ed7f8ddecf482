// avx512::bernoulli_keep_x8 against eight scalar util/rng.h generators: the same bits for every count (whole and
// partial 64-step blocks) and threshold (never, sometimes, always keep), and the states left where the scalar ones
// stop, so a caller can go on drawing with Rng.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/x86_avx512/xoshiro_lanes.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

TEST(XoshiroLanes, EightLanesMatchTheScalarGenerators) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU (or PAGEDLLM_NO_AVX512=1)";
  for (int64_t count : {0, 1, 63, 64, 65, 1000}) {
    for (uint64_t threshold : {uint64_t{0}, uint64_t{1} << 49, uint64_t{1} << 52, (uint64_t{1} << 53) - 1,
                               uint64_t{1} << 53}) {
      std::array<std::array<uint64_t, 4>, 8> states;
      Rng scalar[8];
      std::vector<std::vector<uint8_t>> got(8, std::vector<uint8_t>(static_cast<size_t>(count) + 1, 7));
      uint8_t* out[8];
      for (int l = 0; l < 8; ++l) {
        scalar[l] = Rng(static_cast<uint64_t>(count * 100 + l));
        states[l] = scalar[l].state();
        out[l] = got[l].data();
      }
      avx512::bernoulli_keep_x8(states, threshold, out, count);
      for (int l = 0; l < 8; ++l) {
        for (int64_t i = 0; i < count; ++i) {
          const uint8_t expected = (scalar[l].next_u64() >> 11) >= threshold ? 1 : 0;
          ASSERT_EQ(got[l][i], expected) << "lane " << l << " element " << i << " count " << count;
        }
        EXPECT_EQ(got[l][count], 7) << "wrote past count in lane " << l;
        EXPECT_EQ(states[l], scalar[l].state()) << "lane " << l << " count " << count;
      }
    }
  }
}

}  // namespace
}  // namespace pagedllm
