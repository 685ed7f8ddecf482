#include "kvcache/free_block_queue.h"

#include "util/error.h"

namespace pagedllm {

FreeBlockQueue::FreeBlockQueue(std::vector<KVCacheBlock>& blocks) : blocks_(blocks) {
  for (int i = 0; i < static_cast<int>(blocks_.size()); ++i) push_back(i);
}

int FreeBlockQueue::pop_front() {
  PAGEDLLM_CHECK_MSG(head_ != kNoLink, "pop_front on an empty free block queue");
  const int block_id = head_;
  remove(block_id);
  return block_id;
}

void FreeBlockQueue::push_back(int block_id) {
  PAGEDLLM_CHECK_MSG(!contains(block_id), "block {} is already in the free queue", block_id);
  KVCacheBlock& block = blocks_[block_id];
  block.prev_free = tail_;
  block.next_free = kNoLink;
  if (tail_ == kNoLink) {
    head_ = block_id;
  } else {
    blocks_[tail_].next_free = block_id;
  }
  tail_ = block_id;
  ++num_free_;
}

void FreeBlockQueue::remove(int block_id) {
  PAGEDLLM_CHECK_MSG(contains(block_id), "block {} is not in the free queue", block_id);
  KVCacheBlock& block = blocks_[block_id];
  if (block.prev_free == kNoLink) {
    head_ = block.next_free;
  } else {
    blocks_[block.prev_free].next_free = block.next_free;
  }
  if (block.next_free == kNoLink) {
    tail_ = block.prev_free;
  } else {
    blocks_[block.next_free].prev_free = block.prev_free;
  }
  block.prev_free = kNoLink;
  block.next_free = kNoLink;
  --num_free_;
}

bool FreeBlockQueue::contains(int block_id) const {
  const KVCacheBlock& block = blocks_[block_id];
  // A lone block has no neighbours, so it is linked exactly when it is the head.
  return block.prev_free != kNoLink || block.next_free != kNoLink || head_ == block_id;
}

std::vector<int> FreeBlockQueue::block_ids() const {
  std::vector<int> ids;
  ids.reserve(num_free_);
  for (int id = head_; id != kNoLink; id = blocks_[id].next_free) ids.push_back(id);
  return ids;
}

}  // namespace pagedllm
