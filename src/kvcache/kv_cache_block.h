// One physical KV-cache block: the keys and values of `block_size` consecutive tokens in every layer. The pool
// owns all blocks for the life of the engine; everyone else refers to them by block_id.
#pragma once

#include <optional>

#include "kvcache/block_hash.h"

namespace pagedllm {

// Marks the absence of a neighbour in the index-based free list (no pointers: blocks live in one vector).
inline constexpr int kNoLink = -1;

struct KVCacheBlock {
  int block_id = 0;
  // Number of block tables that hold this block. 0 <=> the block is in the free queue.
  int ref_cnt = 0;
  // Set while the block is registered in the prefix cache (it is full and its contents match this hash).
  // A free block may keep its hash: it stays reusable until the pool evicts it for a new allocation.
  std::optional<BlockHash> block_hash;
  // Neighbours in the free queue (block ids), kNoLink at the ends or when the block is not free.
  int prev_free = kNoLink;
  int next_free = kNoLink;
};

}  // namespace pagedllm
