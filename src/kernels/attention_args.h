// The arguments of paged_attention (kernels/attention.h) bundled for the per-instruction-set kernels, and the
// work split they share. Shapes and meanings are those of attention.h.
#pragma once

#include <algorithm>
#include <cstdint>

namespace pagedllm {

struct PagedAttentionArgs {
  float* out;                  // (n_tokens, n_heads, head_dim)
  const float* q;              // (n_tokens, n_heads, head_dim)
  const float* key_cache;      // (num_blocks, block_size, n_kv_heads, head_dim)
  const float* value_cache;    // (num_blocks, block_size, n_kv_heads, head_dim)
  const int32_t* block_tables;  // (num_seqs, max_blocks_per_seq)
  int max_blocks_per_seq;
  const int32_t* seq_lens;     // (num_seqs)
  const int32_t* query_start;  // (num_seqs + 1)
  int num_seqs;
  int n_heads;
  int n_kv_heads;
  int head_dim;
  int block_size;
  float scale;

  int group_size() const { return n_heads / n_kv_heads; }
  int32_t q_len(int seq) const { return query_start[seq + 1] - query_start[seq]; }
  // Offset of K/V of (position, kv_head) of sequence `seq` in key_cache / value_cache.
  int64_t cache_offset(int seq, int64_t position, int kv_head) const {
    int64_t block = block_tables[static_cast<int64_t>(seq) * max_blocks_per_seq + position / block_size];
    int64_t slot = block * block_size + position % block_size;
    return (slot * n_kv_heads + kv_head) * head_dim;
  }
};

// Query rows (query tokens × heads of one kv head) attended together: every K/V row loaded from the cache is used
// for all of them. Bounds the scratch of one group to kMaxGroupRows × head_dim accumulators.
constexpr int kMaxGroupRows = 16;
// Cache positions scored per online-softmax step (one rescale of the accumulators per tile).
constexpr int kPositionTile = 32;

inline int queries_per_group(int group_size) { return std::max(1, kMaxGroupRows / group_size); }

}  // namespace pagedllm
