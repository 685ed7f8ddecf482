#include "kvcache/block_pool.h"

#include "util/error.h"

namespace pagedllm {
namespace {

std::vector<KVCacheBlock> make_blocks(int num_blocks) {
  if (num_blocks <= 0) throw_error(ErrorKind::kInvalidArgument, "KV cache: num_blocks must be positive, got {}", num_blocks);
  std::vector<KVCacheBlock> blocks(num_blocks);
  for (int i = 0; i < num_blocks; ++i) blocks[i].block_id = i;
  return blocks;
}

}  // namespace

BlockPool::BlockPool(int num_blocks, bool enable_caching)
    : blocks_(make_blocks(num_blocks)), free_queue_(blocks_), enable_caching_(enable_caching) {}

double BlockPool::usage() const {
  return 1.0 - static_cast<double>(num_free_blocks()) / static_cast<double>(num_blocks());
}

std::optional<std::vector<int>> BlockPool::get_new_blocks(int num_blocks) {
  PAGEDLLM_CHECK(num_blocks >= 0);
  if (num_blocks > num_free_blocks()) return std::nullopt;
  std::vector<int> ids(num_blocks);
  for (int& id : ids) {
    id = free_queue_.pop_front();
    KVCacheBlock& block = blocks_[id];
    evict_cached_hash(block);
    block.ref_cnt = 1;
  }
  return ids;
}

void BlockPool::free_blocks(std::span<const int> block_ids) {
  for (int id : block_ids) {
    KVCacheBlock& block = blocks_.at(id);
    PAGEDLLM_CHECK_MSG(block.ref_cnt > 0, "freeing block {} that has no reference", id);
    if (--block.ref_cnt == 0) free_queue_.push_back(id);
  }
}

void BlockPool::touch(std::span<const int> block_ids) {
  for (int id : block_ids) {
    KVCacheBlock& block = blocks_.at(id);
    if (block.ref_cnt == 0) free_queue_.remove(id);
    ++block.ref_cnt;
  }
}

bool BlockPool::cache_full_block(int block_id, const BlockHash& hash) {
  KVCacheBlock& block = blocks_.at(block_id);
  PAGEDLLM_CHECK_MSG(block.ref_cnt > 0, "caching block {} that no request holds", block_id);
  if (!enable_caching_ || block.block_hash.has_value()) return false;
  if (!cached_block_by_hash_.emplace(hash, block_id).second) return false;
  block.block_hash = hash;
  return true;
}

std::optional<int> BlockPool::get_cached_block(const BlockHash& hash) const {
  auto it = cached_block_by_hash_.find(hash);
  if (it == cached_block_by_hash_.end()) return std::nullopt;
  return it->second;
}

void BlockPool::reset_prefix_cache() {
  for (KVCacheBlock& block : blocks_) block.block_hash.reset();
  cached_block_by_hash_.clear();
}

void BlockPool::evict_cached_hash(KVCacheBlock& block) {
  if (!block.block_hash.has_value()) return;
  cached_block_by_hash_.erase(*block.block_hash);
  block.block_hash.reset();
}

void BlockPool::check_invariants() const {
  int num_zero_ref = 0;
  int num_hashed = 0;
  for (const KVCacheBlock& block : blocks_) {
    PAGEDLLM_CHECK_MSG(block.ref_cnt >= 0, "block {} has ref_cnt {}", block.block_id, block.ref_cnt);
    PAGEDLLM_CHECK_MSG((block.ref_cnt == 0) == free_queue_.contains(block.block_id),
                       "block {} with ref_cnt {} is {}in the free queue", block.block_id, block.ref_cnt,
                       free_queue_.contains(block.block_id) ? "" : "not ");
    if (block.ref_cnt == 0) ++num_zero_ref;
    if (block.block_hash.has_value()) {
      ++num_hashed;
      const std::optional<int> cached = get_cached_block(*block.block_hash);
      PAGEDLLM_CHECK_MSG(cached == block.block_id, "block {} has a hash that maps elsewhere", block.block_id);
    }
  }
  const std::vector<int> queued = free_queue_.block_ids();
  PAGEDLLM_CHECK_MSG(static_cast<int>(queued.size()) == free_queue_.size() && free_queue_.size() == num_zero_ref,
                     "free queue walks {} blocks, counts {}, {} blocks have ref_cnt 0", queued.size(),
                     free_queue_.size(), num_zero_ref);
  PAGEDLLM_CHECK_MSG(num_hashed == num_cached_blocks(), "{} blocks carry a hash but the map has {}", num_hashed,
                     num_cached_blocks());
  PAGEDLLM_CHECK(enable_caching_ || num_hashed == 0);
}

}  // namespace pagedllm
