#include "model/activation_buffer.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

namespace pagedllm {
namespace {

// Resident pages of the buffer's first `bytes`, as the kernel reports them (mincore).
size_t resident_pages(ActivationBuffer& buffer, size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in_core((bytes + page - 1) / page);
  EXPECT_EQ(mincore(buffer.data(), bytes, in_core.data()), 0);
  size_t n = 0;
  for (unsigned char c : in_core) n += c & 1;
  return n;
}

TEST(ActivationBuffer, GivesBackThePagesPastTheLastStepsRows) {
  const size_t page_floats = static_cast<size_t>(sysconf(_SC_PAGESIZE)) / sizeof(float);
  ActivationBuffer buffer;
  const size_t floats = 64 * page_floats;
  float* data = buffer.reserve(floats);
  ASSERT_GE(buffer.capacity(), floats);
  for (size_t i = 0; i < floats; ++i) data[i] = 1.0f;
  EXPECT_EQ(resident_pages(buffer, floats * sizeof(float)), 64u);

  buffer.release_after(10 * page_floats + 1);  // keeps the 11 pages the first 10 pages + 1 float touch
  EXPECT_EQ(resident_pages(buffer, floats * sizeof(float)), 11u);
  EXPECT_EQ(buffer.capacity(), floats);
  EXPECT_EQ(data[10 * page_floats], 1.0f);
  EXPECT_EQ(data[11 * page_floats], 0.0f);  // handed back: reads as a fresh zero page
  EXPECT_EQ(buffer.reserve(floats), data);  // no new mapping while the capacity suffices
}

TEST(ActivationBuffer, GrowsIntoALargerMapping) {
  ActivationBuffer buffer;
  buffer.reserve(100)[99] = 2.0f;
  EXPECT_EQ(buffer.capacity(), 100u);
  buffer.reserve(50);
  EXPECT_EQ(buffer.capacity(), 100u);
  float* grown = buffer.reserve(1000);
  EXPECT_EQ(buffer.capacity(), 1000u);
  EXPECT_EQ(grown[999], 0.0f);
  buffer.release_after(5000);  // past the end: nothing to do
  EXPECT_EQ(buffer.capacity(), 1000u);
}

}  // namespace
}  // namespace pagedllm
