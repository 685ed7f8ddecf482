// Per-request block tables over one BlockPool (vLLM v1's KVCacheManager): prefix-cache lookup, slot allocation,
// fork with copy-on-write, and freeing. Requests are named by their request_id; the manager knows nothing else
// about them (callers pass token counts and a TokenSequence), so kvcache depends on util only.
//
// A request's table covers tokens [0, num_computed_tokens + num_new_tokens) after a successful allocate_slots;
// block i holds tokens [i * block_size, (i + 1) * block_size). Tables only grow, except that a shared block that
// is about to be written is replaced by a private copy (copy-on-write, recorded in pending copies).
// Not thread-safe: the engine loop is the only user.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kvcache/block_hash.h"
#include "kvcache/block_pool.h"

namespace pagedllm {

struct ComputedBlocks {
  std::vector<int> block_ids;   // the cached blocks of the longest hit prefix, in order
  int num_computed_tokens = 0;  // block_ids.size() * block_size
};

// Prefix-cache counters for metrics (vLLM's prefix_cache_queries / prefix_cache_hits, in tokens).
struct PrefixCacheStats {
  uint64_t num_requests = 0;
  uint64_t num_query_tokens = 0;
  uint64_t num_hit_tokens = 0;
};

class KVCacheManager {
 public:
  KVCacheManager(int num_blocks, int block_size, bool enable_prefix_caching);

  int block_size() const { return block_size_; }
  int num_blocks() const { return pool_.num_blocks(); }
  bool is_prefix_caching_enabled() const { return enable_prefix_caching_; }
  int num_free_blocks() const { return pool_.num_free_blocks(); }
  double usage() const { return pool_.usage(); }

  // The longest prefix of `tokens` whose full blocks are all in the prefix cache, under adapter `lora_id`. Never
  // the whole sequence: at most (size - 1) tokens rounded down to a block boundary, because the last token must
  // be computed to get its logits. Takes no references (pass the result to allocate_slots). Empty when prefix
  // caching is off.
  ComputedBlocks get_computed_blocks(const TokenSequence& tokens, int lora_id) const;

  // Grows `request_id`'s table (creating it if needed) to cover num_computed_tokens + num_new_tokens tokens.
  // `new_computed_blocks` are prefix-cache hits from get_computed_blocks, only for a request without a table;
  // num_computed_tokens then equals their token count. A shared block that this step writes into (ref_cnt > 1,
  // e.g. the partial last block after fork) is replaced by a fresh block; if it held computed tokens, the pair
  // (shared, fresh) is added to the pending copies. Returns false and changes nothing when blocks run out.
  bool allocate_slots(const std::string& request_id, int num_computed_tokens, int num_new_tokens,
                      std::span<const int> new_computed_blocks = {});

  // Registers in the prefix cache the request's full blocks among its first num_computed_tokens tokens, once
  // their keys and values are computed (call after each forward). No-op when prefix caching is off.
  void cache_blocks(const std::string& request_id, const TokenSequence& tokens, int lora_id, int num_computed_tokens);

  // Drops the request's references (tail block first into the free queue, so it is evicted first) and any
  // pending copy into its blocks. Unknown ids are ignored.
  void free(const std::string& request_id);

  // `child_id` gets the same table as `parent_id`, one more reference on every block (no copy now).
  void fork(const std::string& parent_id, const std::string& child_id);

  bool has_request(const std::string& request_id) const { return requests_.contains(request_id); }
  // The request's table; empty for an unknown id.
  const std::vector<int>& block_table(const std::string& request_id) const;
  int num_requests() const { return static_cast<int>(requests_.size()); }

  // (src, dst) block pairs to copy before the next forward, in the order recorded; clears the list.
  std::vector<std::pair<int, int>> take_pending_copies();

  // Counts one prefix-cache lookup of num_query_tokens tokens that hit num_hit_tokens (at admission).
  void record_prefix_cache_lookup(int num_query_tokens, int num_hit_tokens);
  const PrefixCacheStats& prefix_cache_stats() const { return stats_; }
  void reset_prefix_cache() { pool_.reset_prefix_cache(); }

  const BlockPool& block_pool() const { return pool_; }
  // The pool's invariants, plus: every block's ref_cnt equals the number of table entries naming it, and every
  // pending copy's destination belongs to a table.
  void check_invariants() const;

 private:
  struct RequestBlocks {
    std::vector<int> block_ids;
    // Hashes of the first block_hashes.size() blocks, which are full, computed and offered to the cache.
    std::vector<BlockHash> block_hashes;
  };

  std::vector<int> copy_on_write_indices(const std::vector<int>& table, int num_computed_tokens,
                                         int num_required_blocks) const;

  int block_size_;
  bool enable_prefix_caching_;
  BlockPool pool_;
  std::unordered_map<std::string, RequestBlocks> requests_;
  std::vector<std::pair<int, int>> pending_copies_;
  PrefixCacheStats stats_;
};

}  // namespace pagedllm
