// Paged attention over a KV cache split into fixed-size blocks (PagedAttention, vLLM).
//
// Cache layout of one layer: key_cache and value_cache are each (num_blocks, block_size, n_kv_heads, head_dim) in
// the cache's KVCacheDType (fp32, bf16 or fp8 with a scale per tensor); attention widens what it reads to fp32.
// Token t of a sequence lives in block block_table[t / block_size] at offset t % block_size.
// A "slot" is block_id * block_size + offset.
#pragma once

#include <cstdint>

#include "kernels/kv_cache_dtype.h"

namespace pagedllm {

// One layer's key and value caches as stored.
struct KVCacheLayer {
  void* key_cache;    // (num_blocks, block_size, n_kv_heads, head_dim) of dtype
  void* value_cache;  // (num_blocks, block_size, n_kv_heads, head_dim) of dtype
  KVCacheDType dtype = KVCacheDType::kFloat32;
  float k_scale = 1.0f;  // fp8 only: a key is stored as key / k_scale
  float v_scale = 1.0f;
};

// Writes the keys/values of n_tokens new tokens into their slots. k, v: (n_tokens, n_kv_heads, head_dim).
// A negative slot means "do not store" (padding). Converts to cache.dtype (kernels/kv_convert.h).
void reshape_and_cache(const float* k, const float* v, const KVCacheLayer& cache, const int64_t* slot_mapping,
                       int64_t n_tokens, int n_kv_heads, int head_dim, int block_size);
// The same into fp32 caches.
void reshape_and_cache(const float* k, const float* v, float* key_cache, float* value_cache,
                       const int64_t* slot_mapping, int64_t n_tokens, int n_kv_heads, int head_dim, int block_size);

// Causal attention for a flattened batch of sequences, each reading its whole history through its block table.
//   q:               (n_tokens, n_heads, head_dim), tokens of sequence s are rows query_start[s] .. query_start[s+1]-1
//   out:             (n_tokens, n_heads, head_dim)
//   block_tables:    (num_seqs, max_blocks_per_seq) block ids, row s covers sequence s
//   seq_lens[s]:     tokens of sequence s in the cache after this step (history + this step's tokens); the
//                    q_len = query_start[s+1]-query_start[s] query tokens are its last q_len positions, so query i
//                    (0-based within the sequence's chunk) attends to positions 0 .. seq_lens[s]-q_len+i.
// GQA: query head h reads kv head h / (n_heads / n_kv_heads). Online softmax, no gather into a contiguous copy.
// scale is usually 1/sqrt(head_dim). Keys and values are widened to fp32 as read; all arithmetic is fp32.
void paged_attention(float* out, const float* q, const KVCacheLayer& cache, const int32_t* block_tables,
                     int max_blocks_per_seq, const int32_t* seq_lens, const int32_t* query_start, int num_seqs,
                     int n_heads, int n_kv_heads, int head_dim, int block_size, float scale);
// The same over fp32 caches.
void paged_attention(float* out, const float* q, const float* key_cache, const float* value_cache,
                     const int32_t* block_tables, int max_blocks_per_seq, const int32_t* seq_lens,
                     const int32_t* query_start, int num_seqs, int n_heads, int n_kv_heads, int head_dim,
                     int block_size, float scale);

}  // namespace pagedllm
