#include "util/zeroed_buffer.h"

#include <sys/mman.h>

#include <utility>

#include "util/error.h"

namespace pagedllm {

ZeroedFloats::ZeroedFloats(size_t count) : count_(count) {
  if (count == 0) return;
  void* p = mmap(nullptr, count * sizeof(float), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    throw_error(ErrorKind::kResourceExhausted, "cannot reserve {} bytes of memory", count * sizeof(float));
  }
  data_ = static_cast<float*>(p);
}

ZeroedFloats::~ZeroedFloats() {
  if (data_ != nullptr) munmap(data_, count_ * sizeof(float));
}

ZeroedFloats::ZeroedFloats(ZeroedFloats&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}

ZeroedFloats& ZeroedFloats::operator=(ZeroedFloats&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, count_ * sizeof(float));
    data_ = std::exchange(other.data_, nullptr);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

}  // namespace pagedllm
