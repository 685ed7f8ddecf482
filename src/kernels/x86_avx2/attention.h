// AVX2+FMA paged attention; only call after has_avx2_fma_f16c() (kernels/cpu_features.h).
// Contracts as in kernels/attention.h; these run on the calling thread and do not validate their arguments.
#pragma once

#include <cstdint>

#include "kernels/attention_args.h"

namespace pagedllm::avx2 {

// Attention of query tokens [q_begin, q_end) (indices within sequence seq's chunk) for the query heads of kv head
// kv_head: writes their rows of args.out.
void paged_attention_group(const PagedAttentionArgs& args, int seq, int kv_head, int32_t q_begin, int32_t q_end);

// All sequences, all heads, serially.
void paged_attention(const PagedAttentionArgs& args);

}  // namespace pagedllm::avx2
