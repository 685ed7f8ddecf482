// The arguments of paged_attention (kernels/attention.h) bundled for the per-instruction-set kernels, and the
// work split they share. Shapes and meanings are those of attention.h.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/kv_cache_dtype.h"

namespace pagedllm {

struct PagedAttentionArgs {
  float* out;                  // (n_tokens, n_heads, head_dim)
  const float* q;              // (n_tokens, n_heads, head_dim)
  const void* key_cache;       // (num_blocks, block_size, n_kv_heads, head_dim) of kv_dtype
  const void* value_cache;     // (num_blocks, block_size, n_kv_heads, head_dim) of kv_dtype
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
  KVCacheDType kv_dtype = KVCacheDType::kFloat32;
  float k_scale = 1.0f;  // fp8: stored code · k_scale is the key
  float v_scale = 1.0f;

  int group_size() const { return n_heads / n_kv_heads; }
  int32_t q_len(int seq) const { return query_start[seq + 1] - query_start[seq]; }
  // Offset of K/V of (position, kv_head) of sequence `seq` in key_cache / value_cache.
  int64_t cache_offset(int seq, int64_t position, int kv_head) const {
    int64_t block = block_tables[static_cast<int64_t>(seq) * max_blocks_per_seq + position / block_size];
    int64_t slot = block * block_size + position % block_size;
    return (slot * n_kv_heads + kv_head) * head_dim;
  }
  const void* key_row(int seq, int64_t position, int kv_head) const {
    return static_cast<const char*>(key_cache) + cache_offset(seq, position, kv_head) * kv_cache_dtype_size(kv_dtype);
  }
  const void* value_row(int seq, int64_t position, int kv_head) const {
    return static_cast<const char*>(value_cache) + cache_offset(seq, position, kv_head) * kv_cache_dtype_size(kv_dtype);
  }
};

// Query rows (query tokens × heads of one kv head) attended together: every K/V row loaded from the cache is used
// for all of them. Bounds the scratch of one group to kMaxGroupRows × head_dim accumulators.
constexpr int kMaxGroupRows = 16;
// Cache positions scored per online-softmax step (one rescale of the accumulators per tile).
constexpr int kPositionTile = 32;

inline int queries_per_group(int group_size) { return std::max(1, kMaxGroupRows / group_size); }

// Internal to each translation unit that includes them (the portable, AVX2 and AVX-512 kernels, each compiled for
// its own instruction set): an out-of-line copy compiled for AVX-512 must not be the one the linker keeps for all.
namespace {

// The stored K and V rows of positions [p0, p1) of kv head kv_head, as they lie in the cache: keys[p - p0],
// values[p - p0]. One block-table look-up per block, not two divisions per row: a decode tile's attention does little
// arithmetic per row, and the per-row divisions and size look-ups cost as much as it.
void tile_row_pointers(const PagedAttentionArgs& a, int seq, int kv_head, int64_t p0, int64_t p1,
                              const void** keys, const void** values) {
  const int64_t elem = static_cast<int64_t>(kv_cache_dtype_size(a.kv_dtype));
  const int64_t stride = static_cast<int64_t>(a.n_kv_heads) * a.head_dim * elem;  // between positions of a block
  const char* key_base = static_cast<const char*>(a.key_cache) + kv_head * a.head_dim * elem;
  const char* value_base = static_cast<const char*>(a.value_cache) + kv_head * a.head_dim * elem;
  const int32_t* table = a.block_tables + static_cast<int64_t>(seq) * a.max_blocks_per_seq;
  for (int64_t p = p0; p < p1;) {
    const int64_t offset = p % a.block_size;
    const int64_t count = std::min(p1 - p, a.block_size - offset);
    const int64_t first = (static_cast<int64_t>(table[p / a.block_size]) * a.block_size + offset) * stride;
    for (int64_t i = 0; i < count; ++i) {
      keys[p - p0 + i] = key_base + first + i * stride;
      values[p - p0 + i] = value_base + first + i * stride;
    }
    p += count;
  }
}

// The fp32 K and V rows of positions [p0, p1) of kv head kv_head: pointers into the cache when it holds fp32,
// else rows widened by `widen` (kv_to_f32's signature) into `scratch`, 2 · kPositionTile · head_dim floats. Each
// row is widened once per tile and then read by every query row of the group.
template <typename Widen>
void tile_rows(const PagedAttentionArgs& a, int seq, int kv_head, int64_t p0, int64_t p1, const float** keys,
               const float** values, float* scratch, Widen widen) {
  const int n = static_cast<int>(p1 - p0);
  const void* stored_keys[kPositionTile];
  const void* stored_values[kPositionTile];
  tile_row_pointers(a, seq, kv_head, p0, p1, stored_keys, stored_values);
  for (int p = 0; p < n; ++p) {
    if (a.kv_dtype == KVCacheDType::kFloat32) {
      keys[p] = static_cast<const float*>(stored_keys[p]);
      values[p] = static_cast<const float*>(stored_values[p]);
      continue;
    }
    float* k = scratch + static_cast<int64_t>(p) * a.head_dim;
    float* v = scratch + static_cast<int64_t>(kPositionTile + p) * a.head_dim;
    widen(stored_keys[p], k, a.head_dim, a.kv_dtype, a.k_scale);
    widen(stored_values[p], v, a.head_dim, a.kv_dtype, a.v_scale);
    keys[p] = k;
    values[p] = v;
  }
}

}  // namespace

}  // namespace pagedllm
