#include "train/dynamic_map.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace pagedllm {
namespace {

TEST(DynamicMapTest, SignedMapHasZeroInTheMiddleAndOneOnTop) {
  const DynamicMap& map = dynamic_map(true);
  EXPECT_TRUE(std::is_sorted(map.begin(), map.end()));
  EXPECT_EQ(map[127], 0.0f);
  EXPECT_EQ(map[255], 1.0f);
  // Largest exponent level: midpoints of linspace(0.1, 1, 65); the extreme one is (0.9859375 + 1) / 2.
  EXPECT_FLOAT_EQ(map[0], -0.99296875f);
  EXPECT_FLOAT_EQ(map[254], 0.99296875f);
  // Smallest level: the single midpoint 0.55 of linspace(0.1, 1, 2), times 1e-6.
  EXPECT_FLOAT_EQ(map[128], 0.55f * 1e-6f);
  EXPECT_FLOAT_EQ(map[126], -0.55f * 1e-6f);
}

TEST(DynamicMapTest, UnsignedMapSpendsTheSignBitOnFraction) {
  const DynamicMap& map = dynamic_map(false);
  EXPECT_TRUE(std::is_sorted(map.begin(), map.end()));
  EXPECT_EQ(map[0], 0.0f);
  EXPECT_EQ(map[255], 1.0f);
  EXPECT_FLOAT_EQ(map[1], 0.325f * 1e-6f);  // midpoints of linspace(0.1, 1, 3) = {0.325, 0.775}
  EXPECT_FLOAT_EQ(map[2], 0.775f * 1e-6f);
}

TEST(DynamicMapTest, QuantizeReturnsNearestEntry) {
  const DynamicMap& map = dynamic_map(true);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(quantize_to_map(map, map[i]), i);
  EXPECT_EQ(quantize_to_map(map, 2.0f), 255);
  EXPECT_EQ(quantize_to_map(map, -2.0f), 0);
  const float between = map[200] + 0.25f * (map[201] - map[200]);
  EXPECT_EQ(quantize_to_map(map, between), 200);
}

}  // namespace
}  // namespace pagedllm
