// A large zero-filled array of floats whose pages the OS supplies on first touch (an anonymous mapping), so that
// reserving a multi-gigabyte KV cache costs neither a memset at start-up nor resident memory for blocks never used.
#pragma once

#include <cstddef>

namespace pagedllm {

class ZeroedFloats {
 public:
  ZeroedFloats() = default;
  // Throws Error(kResourceExhausted) naming the size when the mapping fails.
  explicit ZeroedFloats(size_t count);
  ~ZeroedFloats();
  ZeroedFloats(ZeroedFloats&& other) noexcept;
  ZeroedFloats& operator=(ZeroedFloats&& other) noexcept;
  ZeroedFloats(const ZeroedFloats&) = delete;
  ZeroedFloats& operator=(const ZeroedFloats&) = delete;

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return count_; }

 private:
  float* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace pagedllm
