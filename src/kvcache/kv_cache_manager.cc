#include "kvcache/kv_cache_manager.h"

#include <algorithm>

#include "util/error.h"

namespace pagedllm {
namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

const std::vector<int>& empty_table() {
  static const std::vector<int> empty;
  return empty;
}

}  // namespace

KVCacheManager::KVCacheManager(int num_blocks, int block_size, bool enable_prefix_caching)
    : block_size_(block_size), enable_prefix_caching_(enable_prefix_caching), pool_(num_blocks, enable_prefix_caching) {
  if (block_size <= 0) throw_error(ErrorKind::kInvalidArgument, "KV cache: block_size must be positive, got {}", block_size);
}

ComputedBlocks KVCacheManager::get_computed_blocks(const TokenSequence& tokens, int lora_id) const {
  ComputedBlocks result;
  if (!enable_prefix_caching_ || tokens.size() == 0) return result;
  const int max_blocks = (tokens.size() - 1) / block_size_;
  std::vector<int32_t> block_tokens(block_size_);
  BlockHash parent = kRootBlockHash;
  for (int b = 0; b < max_blocks; ++b) {
    for (int i = 0; i < block_size_; ++i) block_tokens[i] = tokens[b * block_size_ + i];
    parent = hash_block_tokens(parent, block_tokens, lora_id);
    const std::optional<int> block_id = pool_.get_cached_block(parent);
    if (!block_id.has_value()) break;
    result.block_ids.push_back(*block_id);
  }
  result.num_computed_tokens = static_cast<int>(result.block_ids.size()) * block_size_;
  return result;
}

std::vector<int> KVCacheManager::copy_on_write_indices(const std::vector<int>& table, int num_computed_tokens,
                                                       int num_required_blocks) const {
  std::vector<int> indices;
  const int end = std::min(static_cast<int>(table.size()), num_required_blocks);
  for (int i = num_computed_tokens / block_size_; i < end; ++i) {
    if (pool_.block(table[i]).ref_cnt > 1) indices.push_back(i);
  }
  return indices;
}

bool KVCacheManager::allocate_slots(const std::string& request_id, int num_computed_tokens, int num_new_tokens,
                                    std::span<const int> new_computed_blocks) {
  PAGEDLLM_CHECK_MSG(num_new_tokens > 0 && num_computed_tokens >= 0, "allocate_slots({}, {}, {})", request_id,
                     num_computed_tokens, num_new_tokens);
  auto it = requests_.find(request_id);
  const std::vector<int>& table = it == requests_.end() ? empty_table() : it->second.block_ids;
  PAGEDLLM_CHECK_MSG(new_computed_blocks.empty() ||
                         (table.empty() && num_computed_tokens == static_cast<int>(new_computed_blocks.size()) * block_size_),
                     "request {}: prefix-cache hits must cover exactly the computed tokens of a new table", request_id);
  const int num_required = ceil_div(num_computed_tokens + num_new_tokens, block_size_);
  const int num_held = static_cast<int>(table.size() + new_computed_blocks.size());
  const int num_new_blocks = std::max(0, num_required - num_held);
  const std::vector<int> cow = copy_on_write_indices(table, num_computed_tokens, num_required);
  // Hits sitting in the free queue leave it when touched, so they compete with fresh blocks for free slots.
  const auto num_hits_free = std::count_if(new_computed_blocks.begin(), new_computed_blocks.end(),
                                           [&](int id) { return pool_.block(id).ref_cnt == 0; });
  if (num_new_blocks + static_cast<int>(cow.size()) + num_hits_free > pool_.num_free_blocks()) return false;

  RequestBlocks& state = requests_[request_id];
  pool_.touch(new_computed_blocks);
  for (int id : new_computed_blocks) {
    state.block_ids.push_back(id);
    state.block_hashes.push_back(*pool_.block(id).block_hash);
  }
  for (int i : cow) {
    const int src = state.block_ids[i];
    const int dst = pool_.get_new_blocks(1)->front();
    if (i * block_size_ < num_computed_tokens) pending_copies_.emplace_back(src, dst);
    pool_.free_blocks(std::span<const int>(&src, 1));
    state.block_ids[i] = dst;
  }
  const std::vector<int> fresh = *pool_.get_new_blocks(num_new_blocks);
  state.block_ids.insert(state.block_ids.end(), fresh.begin(), fresh.end());
  return true;
}

void KVCacheManager::cache_blocks(const std::string& request_id, const TokenSequence& tokens, int lora_id,
                                  int num_computed_tokens) {
  if (!enable_prefix_caching_) return;
  RequestBlocks& state = requests_.at(request_id);
  const int num_full = std::min(num_computed_tokens, tokens.size()) / block_size_;
  const int num_hashed = static_cast<int>(state.block_hashes.size());
  if (num_full <= num_hashed) return;
  PAGEDLLM_CHECK_MSG(num_full <= static_cast<int>(state.block_ids.size()), "request {}: {} computed tokens but {} blocks",
                     request_id, num_computed_tokens, state.block_ids.size());
  const BlockHash parent = num_hashed == 0 ? kRootBlockHash : state.block_hashes.back();
  const std::vector<BlockHash> hashes =
      hash_full_blocks(tokens, block_size_, lora_id, parent, num_hashed, num_full - num_hashed);
  for (int k = 0; k < static_cast<int>(hashes.size()); ++k) {
    pool_.cache_full_block(state.block_ids[num_hashed + k], hashes[k]);
    state.block_hashes.push_back(hashes[k]);
  }
}

void KVCacheManager::free(const std::string& request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  std::vector<int>& table = it->second.block_ids;
  std::erase_if(pending_copies_, [&](const std::pair<int, int>& copy) {
    return std::find(table.begin(), table.end(), copy.second) != table.end();
  });
  std::reverse(table.begin(), table.end());
  pool_.free_blocks(table);
  requests_.erase(it);
}

void KVCacheManager::fork(const std::string& parent_id, const std::string& child_id) {
  PAGEDLLM_CHECK_MSG(!requests_.contains(child_id), "fork: request {} already has blocks", child_id);
  const RequestBlocks parent = requests_.at(parent_id);
  pool_.touch(parent.block_ids);
  requests_.emplace(child_id, parent);
}

const std::vector<int>& KVCacheManager::block_table(const std::string& request_id) const {
  auto it = requests_.find(request_id);
  return it == requests_.end() ? empty_table() : it->second.block_ids;
}

std::vector<std::pair<int, int>> KVCacheManager::take_pending_copies() {
  std::vector<std::pair<int, int>> copies;
  copies.swap(pending_copies_);
  return copies;
}

void KVCacheManager::record_prefix_cache_lookup(int num_query_tokens, int num_hit_tokens) {
  ++stats_.num_requests;
  stats_.num_query_tokens += static_cast<uint64_t>(num_query_tokens);
  stats_.num_hit_tokens += static_cast<uint64_t>(num_hit_tokens);
}

void KVCacheManager::check_invariants() const {
  pool_.check_invariants();
  std::vector<int> num_refs(pool_.num_blocks(), 0);
  for (const auto& [id, state] : requests_) {
    PAGEDLLM_CHECK_MSG(state.block_hashes.size() <= state.block_ids.size(), "request {} has more hashes than blocks", id);
    for (int block_id : state.block_ids) ++num_refs.at(block_id);
  }
  for (int b = 0; b < pool_.num_blocks(); ++b) {
    PAGEDLLM_CHECK_MSG(pool_.block(b).ref_cnt == num_refs[b], "block {} has ref_cnt {} but {} table entries", b,
                       pool_.block(b).ref_cnt, num_refs[b]);
  }
  for (const auto& [src, dst] : pending_copies_) {
    PAGEDLLM_CHECK_MSG(num_refs.at(dst) > 0, "pending copy {} -> {} targets a block no request holds", src, dst);
  }
}

}  // namespace pagedllm
