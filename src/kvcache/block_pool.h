// All physical KV blocks: reference counts, the LRU free queue and the prefix cache (hash -> block), modelled on
// vLLM v1's BlockPool. Block tables belong to KVCacheManager; the pool only counts references.
//
// Invariants (check_invariants): a block is in the free queue exactly when its ref_cnt is 0; a block has a hash
// exactly when the hash maps back to it. Free blocks may keep their hash: they are "cached but evictable" and are
// either reused through a prefix-cache hit (touch) or evicted, least recently freed first, by get_new_blocks.
// Not thread-safe: the engine loop is the only user.
#pragma once

#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "kvcache/block_hash.h"
#include "kvcache/free_block_queue.h"
#include "kvcache/kv_cache_block.h"

namespace pagedllm {

class BlockPool {
 public:
  BlockPool(int num_blocks, bool enable_caching);
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  int num_blocks() const { return static_cast<int>(blocks_.size()); }
  // Blocks with ref_cnt 0, cached ones included (they can be evicted on demand).
  int num_free_blocks() const { return free_queue_.size(); }
  // Fraction of blocks referenced by some request, in [0, 1].
  double usage() const;

  // Takes `num_blocks` blocks from the head of the free queue with ref_cnt 1 each, evicting their cached hashes.
  // nullopt (and nothing changes) when fewer are free.
  std::optional<std::vector<int>> get_new_blocks(int num_blocks);
  // Drops one reference from each block; blocks reaching 0 join the free-queue tail in the given order, so the
  // first id is evicted first. Callers pass a request's table in reverse (its longest-prefix blocks go last).
  void free_blocks(std::span<const int> block_ids);
  // Adds one reference to each block (a prefix-cache hit), unlinking cached free blocks from the free queue.
  void touch(std::span<const int> block_ids);

  // Registers the full, computed block under `hash`. Returns false and leaves the block uncached when caching is
  // off or another block already holds the hash (the duplicate stays private to its request).
  bool cache_full_block(int block_id, const BlockHash& hash);
  std::optional<int> get_cached_block(const BlockHash& hash) const;
  int num_cached_blocks() const { return static_cast<int>(cached_block_by_hash_.size()); }
  // Forgets every hash (blocks in use stay allocated; free ones become plain free blocks).
  void reset_prefix_cache();

  const KVCacheBlock& block(int block_id) const { return blocks_.at(block_id); }
  std::vector<int> free_block_ids() const { return free_queue_.block_ids(); }

  // Aborts (CHECK) if an invariant above is broken.
  void check_invariants() const;

 private:
  void evict_cached_hash(KVCacheBlock& block);

  std::vector<KVCacheBlock> blocks_;
  FreeBlockQueue free_queue_;  // links through blocks_
  bool enable_caching_;
  std::unordered_map<BlockHash, int, BlockHashHasher> cached_block_by_hash_;
};

}  // namespace pagedllm
