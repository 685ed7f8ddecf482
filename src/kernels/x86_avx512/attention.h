// AVX-512 paged attention; only call after has_avx512() (kernels/cpu_features.h).
// Contracts as in kernels/attention.h; these run on the calling thread and do not validate their arguments.
//
// Why a third kernel: a served decode step attends a few query rows (one token × the heads of a kv head) to every
// cached position, and the AVX2 kernel spent most of its time per query row (one 8-wide dot product per position,
// a serial accumulation chain over positions) and widening 16-bit K/V rows through a scratch buffer. Here each
// position tile's keys are transposed once into (head_dim × 32 positions), so a query row's 32 scores are two
// 16-lane accumulators fed by broadcasts; and each value row, widened in registers, is read once for up to six
// query rows whose accumulators stay in registers.
//
// Each query row's arithmetic is the same whichever other rows share its task, so chunking a prefill into steps
// or tasks does not change a bit of the result.
#pragma once

#include <cstdint>

#include "kernels/attention_args.h"

namespace pagedllm::avx512 {

// Attention of query tokens [q_begin, q_end) (indices within sequence seq's chunk) for the query heads of kv head
// kv_head: writes their rows of args.out.
void paged_attention_group(const PagedAttentionArgs& args, int seq, int kv_head, int32_t q_begin, int32_t q_end);

// All sequences, all heads, serially.
void paged_attention(const PagedAttentionArgs& args);

}  // namespace pagedllm::avx512
