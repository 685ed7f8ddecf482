#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/generic/attention.h"
#include "kernels/x86_avx2/attention.h"
#include "util/error.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

TEST(ReshapeAndCache, PlacesEachTokenInItsSlot) {
  // 3 blocks of block_size 2, 2 kv heads of head_dim 3: a slot holds 6 floats.
  const int n_kv_heads = 2, head_dim = 3, block_size = 2;
  std::vector<float> key_cache(3 * 2 * 6, -1.0f), value_cache(3 * 2 * 6, -1.0f);
  std::vector<float> k(2 * 6), v(2 * 6);
  std::iota(k.begin(), k.end(), 0.0f);
  std::iota(v.begin(), v.end(), 100.0f);
  std::vector<int64_t> slots = {5, 0};  // token 0 → block 2 offset 1, token 1 → block 0 offset 0
  reshape_and_cache(k.data(), v.data(), key_cache.data(), value_cache.data(), slots.data(), 2, n_kv_heads, head_dim,
                    block_size);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(key_cache[5 * 6 + i], static_cast<float>(i));
    EXPECT_EQ(value_cache[5 * 6 + i], static_cast<float>(100 + i));
    EXPECT_EQ(key_cache[0 * 6 + i], static_cast<float>(6 + i));
    EXPECT_EQ(value_cache[0 * 6 + i], static_cast<float>(106 + i));
  }
  for (int slot : {1, 2, 3, 4}) {
    for (int i = 0; i < 6; ++i) EXPECT_EQ(key_cache[slot * 6 + i], -1.0f) << slot;
  }
}

TEST(ReshapeAndCache, SkipsNegativeSlots) {
  std::vector<float> key_cache(4, 0.0f), value_cache(4, 0.0f);
  std::vector<float> k = {1, 2, 3}, v = {4, 5, 6};
  std::vector<int64_t> slots = {-1, 2, -5};
  reshape_and_cache(k.data(), v.data(), key_cache.data(), value_cache.data(), slots.data(), 3, 1, 1, 16);
  EXPECT_EQ(key_cache, (std::vector<float>{0, 0, 2, 0}));
  EXPECT_EQ(value_cache, (std::vector<float>{0, 0, 5, 0}));
}

// A batch of sequences with history and chunks, its K/V written into a paged cache through shuffled block tables,
// and the dense reference computed from the unpaged K/V.
struct AttentionCase {
  AttentionCase(int n_heads, int n_kv_heads, int head_dim, int block_size, std::vector<int32_t> history,
                std::vector<int32_t> q_lens)
      : n_heads(n_heads), n_kv_heads(n_kv_heads), head_dim(head_dim), block_size(block_size),
        history(std::move(history)), q_lens(std::move(q_lens)) {}

  int n_heads, n_kv_heads, head_dim, block_size;
  std::vector<int32_t> history, q_lens;
  // Filled by build():
  std::vector<std::vector<float>> seq_k, seq_v;  // per sequence (seq_len, n_kv_heads, head_dim)
  std::vector<float> q, key_cache, value_cache;
  std::vector<int32_t> block_tables, seq_lens, query_start;
  int max_blocks_per_seq = 0;

  int num_seqs() const { return static_cast<int>(q_lens.size()); }
  int64_t row() const { return static_cast<int64_t>(n_kv_heads) * head_dim; }

  void build(Rng& rng) {
    auto uniform = [&] { return static_cast<float>(rng.uniform() * 2.0 - 1.0); };
    query_start = {0};
    for (int s = 0; s < num_seqs(); ++s) {
      seq_lens.push_back(history[s] + q_lens[s]);
      query_start.push_back(query_start.back() + q_lens[s]);
      max_blocks_per_seq = std::max(max_blocks_per_seq, (seq_lens[s] + block_size - 1) / block_size + 1);
    }
    int num_blocks = num_seqs() * max_blocks_per_seq;
    std::vector<int32_t> ids(num_blocks);
    std::iota(ids.begin(), ids.end(), 0);
    for (int i = num_blocks - 1; i > 0; --i) std::swap(ids[i], ids[static_cast<int>(rng.uniform() * (i + 1))]);
    block_tables = ids;  // row s is ids[s·max_blocks_per_seq ...]: disjoint, non-contiguous blocks
    key_cache.assign(static_cast<size_t>(num_blocks) * block_size * row(), std::numeric_limits<float>::quiet_NaN());
    value_cache = key_cache;  // slots nobody wrote stay NaN: reading one poisons the result
    for (int s = 0; s < num_seqs(); ++s) {
      seq_k.emplace_back(seq_lens[s] * row());
      seq_v.emplace_back(seq_lens[s] * row());
      for (float& x : seq_k[s]) x = uniform();
      for (float& x : seq_v[s]) x = uniform();
      std::vector<int64_t> slots(seq_lens[s]);
      for (int32_t p = 0; p < seq_lens[s]; ++p) {
        slots[p] = static_cast<int64_t>(block_tables[s * max_blocks_per_seq + p / block_size]) * block_size +
                   p % block_size;
      }
      reshape_and_cache(seq_k[s].data(), seq_v[s].data(), key_cache.data(), value_cache.data(), slots.data(),
                        seq_lens[s], n_kv_heads, head_dim, block_size);
    }
    q.resize(static_cast<size_t>(query_start.back()) * n_heads * head_dim);
    for (float& x : q) x = uniform();
  }

  // Dense causal softmax attention in double over the unpaged K/V.
  std::vector<double> reference(float scale) const {
    std::vector<double> out(q.size());
    int group = n_heads / n_kv_heads;
    for (int s = 0; s < num_seqs(); ++s) {
      for (int32_t i = 0; i < q_lens[s]; ++i) {
        int64_t token = query_start[s] + i;
        int32_t last = history[s] + i;
        for (int h = 0; h < n_heads; ++h) {
          const float* qh = q.data() + (token * n_heads + h) * head_dim;
          int kv = h / group;
          std::vector<double> scores(last + 1);
          for (int32_t p = 0; p <= last; ++p) {
            double dot = 0.0;
            for (int d = 0; d < head_dim; ++d) dot += static_cast<double>(qh[d]) * seq_k[s][p * row() + kv * head_dim + d];
            scores[p] = dot * scale;
          }
          double max = *std::max_element(scores.begin(), scores.end()), sum = 0.0;
          for (double& x : scores) sum += (x = std::exp(x - max));
          for (int d = 0; d < head_dim; ++d) {
            double acc = 0.0;
            for (int32_t p = 0; p <= last; ++p) acc += scores[p] * seq_v[s][p * row() + kv * head_dim + d];
            out[(token * n_heads + h) * head_dim + d] = acc / sum;
          }
        }
      }
    }
    return out;
  }

  PagedAttentionArgs args(float* out, float scale) const {
    return {out, q.data(), key_cache.data(), value_cache.data(), block_tables.data(), max_blocks_per_seq,
            seq_lens.data(), query_start.data(), num_seqs(), n_heads, n_kv_heads, head_dim, block_size, scale};
  }
};

// |q|, |k|, |v| ≤ 1. A score's fp32 error is ≤ γ_head_dim·head_dim·scale (Higham §3.1), which moves every
// softmax weight by that much relatively and the output (a convex combination of |v| ≤ 1) by about twice as much;
// the exp approximation (2 ulp), the running rescales and the final normalization add a few u per position.
double attention_tolerance(int head_dim, float scale) {
  const double u = 0x1.0p-24;
  return 2.0 * head_dim * u * head_dim * scale + 64 * u;
}

void expect_near_reference(const std::vector<float>& got, const std::vector<double>& expected, double tol,
                           const char* what) {
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expected[i], tol) << what << " element " << i;
}

using AttentionFn = void (*)(const PagedAttentionArgs&);

// Runs fn on every layout (head sizes, grouped heads, block sizes, sequence mixes) against the double reference,
// into an output filled with NaN so that a row the kernel leaves unwritten fails.
void check_every_layout(AttentionFn fn, const char* name) {
  Rng rng(11);
  for (int head_dim : {8, 12, 64, 128}) {  // 12: the scalar tail after the 8-wide loops
    for (int group : {1, 2, 4, 8}) {
      for (int block_size : {1, 16}) {
        // A prefill from scratch, a decode with long history, a chunk with history, an empty chunk, a 1-token
        // prompt: more query rows than one group task holds, history lengths off the block boundaries.
        AttentionCase c{2 * group, 2, head_dim, block_size, {0, 45, 20, 7, 0}, {19, 1, 13, 0, 1}};
        c.build(rng);
        float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        SCOPED_TRACE(testing::Message() << "head_dim " << head_dim << " group " << group << " block " << block_size);
        std::vector<float> out(c.q.size(), std::numeric_limits<float>::quiet_NaN());
        fn(c.args(out.data(), scale));
        expect_near_reference(out, c.reference(scale), attention_tolerance(head_dim, scale), name);
      }
    }
  }
}

void dispatching_paged_attention(const PagedAttentionArgs& a) {
  paged_attention(a.out, a.q, a.key_cache, a.value_cache, a.block_tables, a.max_blocks_per_seq, a.seq_lens,
                  a.query_start, a.num_seqs, a.n_heads, a.n_kv_heads, a.head_dim, a.block_size, a.scale);
}

TEST(PagedAttention, MatchesDenseCausalReferenceForEveryLayout) {
  check_every_layout(dispatching_paged_attention, "dispatch");
  check_every_layout(generic::paged_attention, "generic");
}

TEST(PagedAttention, Avx2MatchesDenseCausalReferenceForEveryLayout) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  check_every_layout(avx2::paged_attention, "avx2");
}

TEST(PagedAttention, LongContextSpansManyPositionTiles) {
  Rng rng(12);
  AttentionCase c{4, 1, 64, 16, {300}, {37}};
  c.build(rng);
  float scale = 0.125f;
  std::vector<float> out(c.q.size());
  paged_attention(out.data(), c.q.data(), c.key_cache.data(), c.value_cache.data(), c.block_tables.data(),
                  c.max_blocks_per_seq, c.seq_lens.data(), c.query_start.data(), c.num_seqs(), c.n_heads,
                  c.n_kv_heads, c.head_dim, c.block_size, scale);
  expect_near_reference(out, c.reference(scale), attention_tolerance(64, scale), "dispatch");
}

TEST(PagedAttention, RejectsInconsistentArguments) {
  Rng rng(13);
  AttentionCase c{4, 2, 8, 16, {5}, {3}};
  c.build(rng);
  std::vector<float> out(c.q.size());
  auto run = [&](int n_heads, int n_kv_heads, std::vector<int32_t> seq_lens, int max_blocks_per_seq) {
    paged_attention(out.data(), c.q.data(), c.key_cache.data(), c.value_cache.data(), c.block_tables.data(),
                    max_blocks_per_seq, seq_lens.data(), c.query_start.data(), 1, n_heads, n_kv_heads, 8, 16, 1.0f);
  };
  EXPECT_THROW(run(4, 3, {8}, c.max_blocks_per_seq), Error);  // heads not a multiple of kv heads
  EXPECT_THROW(run(4, 2, {2}, c.max_blocks_per_seq), Error);  // fewer cached tokens than query tokens
  EXPECT_THROW(run(4, 2, {40}, 2), Error);                    // 40 tokens need 3 blocks of 16
  c.block_tables[0] = -1;
  EXPECT_THROW(run(4, 2, {8}, c.max_blocks_per_seq), Error);  // unassigned block in use
}

}  // namespace
}  // namespace pagedllm
