// A thread's packing buffer for the AVX-512 GEMMs (x86_avx512/sgemm.cc, x86_avx512_bf16/bf16_gemm.cc), grown on
// demand. Not std::vector, and internal to each translation unit (unnamed namespace): out-of-line template code
// compiled with AVX-512 flags could otherwise be the copy the linker keeps for the whole program.
#pragma once

#include <cstdint>
#include <memory>

namespace pagedllm {
namespace {

template <typename T>
class PackBuffer {
 public:
  T* get(int64_t n) {
    if (n > size_) {
      data_.reset(new T[static_cast<size_t>(n)]);
      size_ = n;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<T[]> data_;
  int64_t size_ = 0;
};

}  // namespace
}  // namespace pagedllm
