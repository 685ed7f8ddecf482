// One activation array of LlamaModel::forward (x, q, the MLP's gate, ...) in an anonymous mapping whose pages past
// what the last step used go back to the OS. A prefill step's chunks (hundreds of rows) would otherwise stay resident
// through the decode steps that follow, which is when a server's KV cache, and so its resident memory, peaks.
#pragma once

#include <cstddef>

#include "util/zeroed_buffer.h"

namespace pagedllm {

class ActivationBuffer {
 public:
  // At least `floats` floats. Growing maps a new zeroed array (the contents are not kept: forward writes every
  // element of a step before it reads it).
  float* reserve(size_t floats);
  // Pages wholly past the first `floats` floats are handed back (madvise DONTNEED); they read as zero when touched
  // again. The capacity stays.
  void release_after(size_t floats);

  float* data() { return memory_.data(); }
  size_t capacity() const { return memory_.size(); }

 private:
  ZeroedFloats memory_;
};

}  // namespace pagedllm
