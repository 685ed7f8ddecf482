#include "kernels/attention.h"

#include <algorithm>
#include <vector>

#include "kernels/attention_args.h"
#include "kernels/cpu_features.h"
#include "kernels/generic/attention.h"
#include "kernels/kv_convert.h"
#include "kernels/x86_avx2/attention.h"
#include "kernels/x86_avx512/attention.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

void validate(const PagedAttentionArgs& a) {
  if (a.num_seqs < 0 || a.n_heads <= 0 || a.n_kv_heads <= 0 || a.head_dim <= 0 || a.block_size <= 0 ||
      a.max_blocks_per_seq < 0) {
    throw_error(ErrorKind::kInvalidArgument,
                "paged_attention: bad sizes num_seqs={} n_heads={} n_kv_heads={} head_dim={} block_size={} "
                "max_blocks_per_seq={}",
                a.num_seqs, a.n_heads, a.n_kv_heads, a.head_dim, a.block_size, a.max_blocks_per_seq);
  }
  if (a.n_heads % a.n_kv_heads != 0) {
    throw_error(ErrorKind::kInvalidArgument, "paged_attention: n_heads {} is not a multiple of n_kv_heads {}",
                a.n_heads, a.n_kv_heads);
  }
  for (int s = 0; s < a.num_seqs; ++s) {
    int32_t q_len = a.q_len(s);
    if (q_len < 0 || a.seq_lens[s] < q_len) {
      throw_error(ErrorKind::kInvalidArgument, "paged_attention: sequence {} has {} query tokens and seq_len {}", s,
                  q_len, a.seq_lens[s]);
    }
    int64_t num_blocks = (static_cast<int64_t>(a.seq_lens[s]) + a.block_size - 1) / a.block_size;
    if (num_blocks > a.max_blocks_per_seq) {
      throw_error(ErrorKind::kInvalidArgument, "paged_attention: sequence {} needs {} blocks, block table has {}", s,
                  num_blocks, a.max_blocks_per_seq);
    }
    const int32_t* table = a.block_tables + static_cast<int64_t>(s) * a.max_blocks_per_seq;
    for (int64_t b = 0; b < num_blocks; ++b) {
      if (table[b] < 0) {
        throw_error(ErrorKind::kInvalidArgument, "paged_attention: sequence {} block table entry {} is {}", s, b,
                    table[b]);
      }
    }
  }
}

struct GroupTask {
  int seq;
  int kv_head;
  int32_t q_begin;
  int32_t q_end;
};

}  // namespace

void reshape_and_cache(const float* k, const float* v, const KVCacheLayer& cache, const int64_t* slot_mapping,
                       int64_t n_tokens, int n_kv_heads, int head_dim, int block_size) {
  if (n_tokens < 0 || n_kv_heads <= 0 || head_dim <= 0 || block_size <= 0) {
    throw_error(ErrorKind::kInvalidArgument,
                "reshape_and_cache: bad sizes n_tokens={} n_kv_heads={} head_dim={} block_size={}", n_tokens,
                n_kv_heads, head_dim, block_size);
  }
  // A slot's rows are contiguous: (num_blocks, block_size) flattens to the slot index.
  const int64_t row = static_cast<int64_t>(n_kv_heads) * head_dim;
  const int64_t row_bytes = row * static_cast<int64_t>(kv_cache_dtype_size(cache.dtype));
  auto* key_bytes = static_cast<char*>(cache.key_cache);
  auto* value_bytes = static_cast<char*>(cache.value_cache);
  for (int64_t t = 0; t < n_tokens; ++t) {
    int64_t slot = slot_mapping[t];
    if (slot < 0) continue;
    f32_to_kv(k + t * row, key_bytes + slot * row_bytes, row, cache.dtype, cache.k_scale);
    f32_to_kv(v + t * row, value_bytes + slot * row_bytes, row, cache.dtype, cache.v_scale);
  }
}

void reshape_and_cache(const float* k, const float* v, float* key_cache, float* value_cache,
                       const int64_t* slot_mapping, int64_t n_tokens, int n_kv_heads, int head_dim, int block_size) {
  reshape_and_cache(k, v, KVCacheLayer{key_cache, value_cache}, slot_mapping, n_tokens, n_kv_heads, head_dim,
                    block_size);
}

void paged_attention(float* out, const float* q, const KVCacheLayer& cache, const int32_t* block_tables,
                     int max_blocks_per_seq, const int32_t* seq_lens, const int32_t* query_start, int num_seqs,
                     int n_heads, int n_kv_heads, int head_dim, int block_size, float scale) {
  PagedAttentionArgs args{out,        q,         cache.key_cache, cache.value_cache, block_tables, max_blocks_per_seq,
                          seq_lens,   query_start, num_seqs,      n_heads,           n_kv_heads,   head_dim,
                          block_size, scale,     cache.dtype,     cache.k_scale,     cache.v_scale};
  validate(args);
  // Tasks of at most queries_per_group() query tokens of one (sequence, kv head): enough tasks to balance a
  // single long prefill over the pool, each reusing every K/V row it loads for all its query rows.
  std::vector<GroupTask> tasks;
  int32_t step = queries_per_group(args.group_size());
  for (int s = 0; s < num_seqs; ++s) {
    for (int32_t i = 0; i < args.q_len(s); i += step) {
      for (int g = 0; g < n_kv_heads; ++g) tasks.push_back({s, g, i, std::min(args.q_len(s), i + step)});
    }
  }
  auto* group_fn = has_avx512()         ? &avx512::paged_attention_group
                   : has_avx2_fma_f16c() ? &avx2::paged_attention_group
                                         : &generic::paged_attention_group;
  parallel_for(static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) group_fn(args, tasks[t].seq, tasks[t].kv_head, tasks[t].q_begin, tasks[t].q_end);
  });
}

void paged_attention(float* out, const float* q, const float* key_cache, const float* value_cache,
                     const int32_t* block_tables, int max_blocks_per_seq, const int32_t* seq_lens,
                     const int32_t* query_start, int num_seqs, int n_heads, int n_kv_heads, int head_dim,
                     int block_size, float scale) {
  // The fp32 view of read-only caches: paged_attention never writes through KVCacheLayer's pointers.
  KVCacheLayer cache{const_cast<float*>(key_cache), const_cast<float*>(value_cache)};
  paged_attention(out, q, cache, block_tables, max_blocks_per_seq, seq_lens, query_start, num_seqs, n_heads,
                  n_kv_heads, head_dim, block_size, scale);
}

}  // namespace pagedllm
