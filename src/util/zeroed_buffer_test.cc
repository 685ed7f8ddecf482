#include "util/zeroed_buffer.h"

#include <gtest/gtest.h>

#include <utility>

namespace pagedllm {
namespace {

TEST(ZeroedFloats, StartsAtZeroAndHoldsWrites) {
  ZeroedFloats buffer(1 << 20);
  ASSERT_EQ(buffer.size(), size_t{1} << 20);
  EXPECT_EQ(buffer.data()[0], 0.0f);
  EXPECT_EQ(buffer.data()[(1 << 20) - 1], 0.0f);
  buffer.data()[12345] = 2.5f;
  ZeroedFloats moved = std::move(buffer);
  EXPECT_EQ(buffer.data(), nullptr);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(moved.data()[12345], 2.5f);
  EXPECT_EQ(moved.data()[12344], 0.0f);
}

TEST(ZeroedFloats, EmptyHasNoMemory) {
  ZeroedFloats buffer(0);
  EXPECT_EQ(buffer.data(), nullptr);
  EXPECT_EQ(buffer.size(), 0u);
}

}  // namespace
}  // namespace pagedllm
