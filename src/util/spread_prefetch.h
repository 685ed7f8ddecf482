// Prefetching a region of memory a slice at a time while other work runs, for the blocked products: they read a
// block of weights from main memory, then compute on it for a while; requesting the next block's bytes during that
// computation overlaps the memory latency with arithmetic, where the hardware prefetchers (which stop at page
// boundaries and do not follow a block's scattered rows) leave the next block's first reads waiting on memory.
#pragma once

#include <algorithm>
#include <cstdint>

namespace pagedllm {

class SpreadPrefetch {
 public:
  // The region: `rows` rows of `row_bytes` bytes, `stride` bytes apart, from `base` (nullptr: nothing); requested
  // evenly over `calls` calls of step().
  SpreadPrefetch(const void* base, int64_t stride, int64_t rows, int64_t row_bytes, int64_t calls)
      : base_(static_cast<const char*>(base)), stride_(stride), lines_per_row_((row_bytes + kLine - 1) / kLine),
        total_(base == nullptr ? 0 : rows * lines_per_row_),
        per_call_((total_ + std::max<int64_t>(calls, 1) - 1) / std::max<int64_t>(calls, 1)) {}

  // Requests the next slice of lines into L2 (not L1: many lines in flight at once would fill L1's miss buffers and
  // stall the computation's own loads).
  void step() {
    for (const int64_t end = std::min(total_, next_ + per_call_); next_ < end; ++next_) {
      const int64_t row = next_ / lines_per_row_, line = next_ % lines_per_row_;
      __builtin_prefetch(base_ + row * stride_ + line * kLine, 0, 2);
    }
  }

 private:
  static constexpr int64_t kLine = 64;
  const char* base_;
  int64_t stride_, lines_per_row_, total_, per_call_, next_ = 0;
};

}  // namespace pagedllm
