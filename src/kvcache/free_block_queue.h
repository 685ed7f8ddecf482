// The free blocks in least-recently-freed order, as an intrusive doubly linked list threaded through the blocks'
// prev_free / next_free indices (vLLM's FreeBlockQueue). Every operation is O(1): allocation pops the head,
// freeing appends at the tail, and a cached free block reused by a prefix-cache hit is unlinked from the middle.
// Not thread-safe; owned by BlockPool.
#pragma once

#include <vector>

#include "kvcache/kv_cache_block.h"

namespace pagedllm {

class FreeBlockQueue {
 public:
  // Links all `blocks` in index order (so the first allocations get ids 0, 1, 2, ...). Keeps a reference to
  // `blocks`, which must outlive the queue and never be resized.
  explicit FreeBlockQueue(std::vector<KVCacheBlock>& blocks);

  int size() const { return num_free_; }
  bool empty() const { return num_free_ == 0; }

  // Removes and returns the least recently freed block. The queue must not be empty.
  int pop_front();
  // Appends a block that is not in the queue (the most recently freed).
  void push_back(int block_id);
  // Unlinks a block that is in the queue.
  void remove(int block_id);
  // True if the block is linked into the queue.
  bool contains(int block_id) const;

  // Block ids from head to tail (tests and invariant checks).
  std::vector<int> block_ids() const;

 private:
  std::vector<KVCacheBlock>& blocks_;
  int head_ = kNoLink;
  int tail_ = kNoLink;
  int num_free_ = 0;
};

}  // namespace pagedllm
