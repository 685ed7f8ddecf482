#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/generic/attention.h"
#include "kernels/kv_convert.h"
#include "kernels/x86_avx2/attention.h"
#include "kernels/x86_avx512/attention.h"
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
// With a 16-bit or 8-bit dtype, seq_k/seq_v hold the values the cache stores (rounded through the dtype), so the
// reference is exact attention over what the kernels read.
struct AttentionCase {
  AttentionCase(int n_heads, int n_kv_heads, int head_dim, int block_size, std::vector<int32_t> history,
                std::vector<int32_t> q_lens, KVCacheDType dtype = KVCacheDType::kFloat32)
      : n_heads(n_heads), n_kv_heads(n_kv_heads), head_dim(head_dim), block_size(block_size),
        history(std::move(history)), q_lens(std::move(q_lens)), dtype(dtype) {}

  int n_heads, n_kv_heads, head_dim, block_size;
  std::vector<int32_t> history, q_lens;
  KVCacheDType dtype;
  // fp8 scales other than 1 so that a kernel dropping or swapping them fails.
  float k_scale = 0.25f, v_scale = 0.5f;
  // Filled by build():
  std::vector<std::vector<float>> seq_k, seq_v;  // per sequence (seq_len, n_kv_heads, head_dim)
  std::vector<float> q;
  std::vector<uint8_t> key_cache, value_cache;  // (num_blocks, block_size, n_kv_heads, head_dim) of dtype
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
    for (int s = 0; s < num_seqs(); ++s) {
      seq_k.emplace_back(seq_lens[s] * row());
      seq_v.emplace_back(seq_lens[s] * row());
      for (float& x : seq_k[s]) x = uniform();
      for (float& x : seq_v[s]) x = uniform();
      round_through_dtype(seq_k[s], k_scale);
      round_through_dtype(seq_v[s], v_scale);
    }
    write_caches();
    q.resize(static_cast<size_t>(query_start.back()) * n_heads * head_dim);
    for (float& x : q) x = uniform();
  }

  // The caches in `dtype`, every sequence's K/V in the slots of its block table.
  void write_caches() {
    // Slots nobody wrote hold NaN: reading one poisons the result.
    const size_t elem = kv_cache_dtype_size(dtype);
    std::vector<uint8_t> nan_code(elem);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    f32_to_kv(&nan, nan_code.data(), 1, dtype, 1.0f);
    key_cache.resize(block_tables.size() * block_size * row() * elem);
    for (size_t i = 0; i < key_cache.size(); ++i) key_cache[i] = nan_code[i % elem];
    value_cache = key_cache;
    for (int s = 0; s < num_seqs(); ++s) {
      std::vector<int64_t> slots(seq_lens[s]);
      for (int32_t p = 0; p < seq_lens[s]; ++p) {
        slots[p] = static_cast<int64_t>(block_tables[s * max_blocks_per_seq + p / block_size]) * block_size +
                   p % block_size;
      }
      reshape_and_cache(seq_k[s].data(), seq_v[s].data(), layer(), slots.data(), seq_lens[s], n_kv_heads, head_dim,
                        block_size);
    }
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

  void round_through_dtype(std::vector<float>& x, float scale) const {
    std::vector<uint8_t> stored(x.size() * kv_cache_dtype_size(dtype));
    f32_to_kv(x.data(), stored.data(), static_cast<int64_t>(x.size()), dtype, scale);
    kv_to_f32(stored.data(), x.data(), static_cast<int64_t>(x.size()), dtype, scale);
  }

  KVCacheLayer layer() { return {key_cache.data(), value_cache.data(), dtype, k_scale, v_scale}; }

  PagedAttentionArgs args(float* out, float scale) const {
    return {out,          q.data(),   key_cache.data(), value_cache.data(), block_tables.data(), max_blocks_per_seq,
            seq_lens.data(), query_start.data(), num_seqs(), n_heads, n_kv_heads, head_dim, block_size, scale,
            dtype,        k_scale,    v_scale};
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
void check_every_layout(AttentionFn fn, const char* name, KVCacheDType dtype = KVCacheDType::kFloat32) {
  Rng rng(11);
  for (int head_dim : {8, 12, 64, 128}) {  // 12: the scalar tail after the 8-wide loops
    for (int group : {1, 2, 4, 8}) {
      for (int block_size : {1, 16}) {
        // A prefill from scratch, a decode with long history, a chunk with history, an empty chunk, a 1-token
        // prompt: more query rows than one group task holds, history lengths off the block boundaries.
        AttentionCase c{2 * group, 2, head_dim, block_size, {0, 45, 20, 7, 0}, {19, 1, 13, 0, 1}, dtype};
        c.build(rng);
        float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        SCOPED_TRACE(testing::Message() << kv_cache_dtype_name(dtype) << " head_dim " << head_dim << " group "
                                        << group << " block " << block_size);
        std::vector<float> out(c.q.size(), std::numeric_limits<float>::quiet_NaN());
        fn(c.args(out.data(), scale));
        expect_near_reference(out, c.reference(scale), attention_tolerance(head_dim, scale), name);
      }
    }
  }
}

void dispatching_paged_attention(const PagedAttentionArgs& a) {
  KVCacheLayer cache{const_cast<void*>(a.key_cache), const_cast<void*>(a.value_cache), a.kv_dtype, a.k_scale, a.v_scale};
  paged_attention(a.out, a.q, cache, a.block_tables, a.max_blocks_per_seq, a.seq_lens, a.query_start, a.num_seqs,
                  a.n_heads, a.n_kv_heads, a.head_dim, a.block_size, a.scale);
}

constexpr KVCacheDType kAllDTypes[] = {KVCacheDType::kFloat32, KVCacheDType::kBFloat16, KVCacheDType::kFp8E4M3,
                                       KVCacheDType::kFp8E5M2};

// Every dtype against exact attention over the values the cache holds: widening is exact, so the bound is the
// fp32 one (attention_tolerance) whatever the storage.
TEST(PagedAttention, MatchesDenseCausalReferenceForEveryLayoutAndDType) {
  for (KVCacheDType dtype : kAllDTypes) {
    check_every_layout(dispatching_paged_attention, "dispatch", dtype);
    check_every_layout(generic::paged_attention, "generic", dtype);
  }
}

TEST(PagedAttention, Avx2MatchesDenseCausalReferenceForEveryLayoutAndDType) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  for (KVCacheDType dtype : kAllDTypes) check_every_layout(avx2::paged_attention, "avx2", dtype);
}

// The AVX2 path against the portable one on the same 16-bit and 8-bit caches: both are within attention_tolerance
// of the same exact value, so within twice it of each other.
TEST(PagedAttention, Avx2MatchesPortableKernelForEveryDType) {
  if (!has_avx2_fma_f16c()) GTEST_SKIP() << "no AVX2+FMA+F16C on this CPU: the avx2 path is not tested";
  for (KVCacheDType dtype : kAllDTypes) {
    Rng rng(21);
    AttentionCase c{8, 2, 64, 16, {70, 0, 33}, {1, 40, 9}, dtype};
    c.build(rng);
    const float scale = 0.125f;
    std::vector<float> fast(c.q.size()), portable(c.q.size());
    avx2::paged_attention(c.args(fast.data(), scale));
    generic::paged_attention(c.args(portable.data(), scale));
    const double tol = 2 * attention_tolerance(64, scale);
    for (size_t i = 0; i < fast.size(); ++i) ASSERT_NEAR(fast[i], portable[i], tol) << kv_cache_dtype_name(dtype) << " " << i;
  }
}

TEST(PagedAttention, Avx512MatchesDenseCausalReferenceForEveryLayoutAndDType) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU (or PAGEDLLM_NO_AVX512=1): the avx512 path is not tested";
  for (KVCacheDType dtype : kAllDTypes) check_every_layout(avx512::paged_attention, "avx512", dtype);
}

// The AVX-512 path against the portable one on a decode, a prefill from scratch and a chunk with history (head_dim
// 80: a 64-dim value pass and a 16-dim one; 9 query rows per kv head: a score pass of 8 rows and one of 1, value
// passes of 6 and 3): within twice attention_tolerance of each other, as both are within it of the exact value.
TEST(PagedAttention, Avx512MatchesPortableKernelForEveryDType) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU (or PAGEDLLM_NO_AVX512=1): the avx512 path is not tested";
  for (KVCacheDType dtype : kAllDTypes) {
    Rng rng(23);
    AttentionCase c{27, 3, 80, 16, {70, 0, 33}, {1, 40, 9}, dtype};
    c.build(rng);
    const float scale = 1.0f / std::sqrt(80.0f);
    std::vector<float> fast(c.q.size()), portable(c.q.size());
    avx512::paged_attention(c.args(fast.data(), scale));
    generic::paged_attention(c.args(portable.data(), scale));
    const double tol = 2 * attention_tolerance(80, scale);
    for (size_t i = 0; i < fast.size(); ++i) ASSERT_NEAR(fast[i], portable[i], tol) << kv_cache_dtype_name(dtype) << " " << i;
  }
}

// The AVX-512 kernel transposes a bf16 cache's keys as stored pairs and widens them after: the same products in
// the same order as over an fp32 cache holding the same values, so the same bits (head_dim 80 and 9 rows per kv
// head: ragged pair and row passes; a decode, a prefill and a chunk with history).
TEST(PagedAttention, Avx512Bf16CacheGivesTheBitsOfAnFp32CacheOfTheSameValues) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU (or PAGEDLLM_NO_AVX512=1): the avx512 path is not tested";
  for (int head_dim : {8, 80, 128}) {
    Rng rng(31);
    AttentionCase bf16{27, 3, head_dim, 16, {70, 0, 33}, {1, 40, 9}, KVCacheDType::kBFloat16};
    bf16.build(rng);
    AttentionCase f32 = bf16;
    f32.dtype = KVCacheDType::kFloat32;
    f32.write_caches();
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    std::vector<float> from_bf16(bf16.q.size()), from_f32(f32.q.size());
    avx512::paged_attention(bf16.args(from_bf16.data(), scale));
    avx512::paged_attention(f32.args(from_f32.data(), scale));
    EXPECT_EQ(from_bf16, from_f32) << "head_dim " << head_dim;
  }
}

// A query row's result does not depend on which rows share its task: each token of a 40-token chunk attended alone
// (as a decode step of its own history would) gives the bits it got inside the chunk, on the path this CPU runs.
TEST(PagedAttention, EachQueryRowIsIndependentOfItsTaskMates) {
  for (KVCacheDType dtype : kAllDTypes) {
    Rng rng(29);
    // 4 heads per kv head: a task holds 4 tokens (16 rows), and value passes of 6 rows mix tokens.
    AttentionCase chunk{8, 2, 64, 16, {37}, {40}, dtype};
    chunk.build(rng);
    const float scale = 0.125f;
    std::vector<float> together(chunk.q.size());
    dispatching_paged_attention(chunk.args(together.data(), scale));
    const int64_t token_floats = 8 * 64;
    for (int32_t i = 0; i < 40; ++i) {
      // Sequence of history 37 + i and one query token: the chunk's token i, over the same cache and block table.
      PagedAttentionArgs one = chunk.args(nullptr, scale);
      std::vector<float> alone(token_floats);
      const int32_t seq_len = 37 + i + 1, starts[2] = {0, 1};
      one.out = alone.data();
      one.q = chunk.q.data() + i * token_floats;
      one.seq_lens = &seq_len;
      one.query_start = starts;
      dispatching_paged_attention(one);
      for (int64_t e = 0; e < token_floats; ++e) {
        ASSERT_EQ(alone[e], together[i * token_floats + e]) << kv_cache_dtype_name(dtype) << " token " << i << " " << e;
      }
    }
  }
}

// Storage error against fp32 K/V, with |k|, |v| ≤ 1 and scores ≤ head_dim·scale = 1: a relative error ε per stored
// element moves each score by ≤ ε and the output by ≤ about 2ε + ε (weights, then values). ε is 2⁻⁹ for bf16,
// 2⁻⁴ for e4m3 and 2⁻³ for e5m2 (half an ulp of the mantissa); e4m3's subnormals (below 2⁻⁶ · scale) add an
// absolute 2⁻¹⁰ · scale. Bounds asserted: 3ε + 2⁻⁸.
TEST(PagedAttention, StoredDTypesStayNearFp32Attention) {
  const std::pair<KVCacheDType, double> cases[] = {{KVCacheDType::kBFloat16, 0x1.0p-9},
                                                   {KVCacheDType::kFp8E4M3, 0x1.0p-4},
                                                   {KVCacheDType::kFp8E5M2, 0x1.0p-3}};
  for (auto [dtype, eps] : cases) {
    Rng exact_rng(31), stored_rng(31);
    AttentionCase exact{4, 2, 64, 16, {50}, {20}};
    AttentionCase stored{4, 2, 64, 16, {50}, {20}, dtype};
    exact.build(exact_rng);
    stored.build(stored_rng);
    const float scale = 1.0f / 64;
    std::vector<float> out(stored.q.size());
    paged_attention(out.data(), stored.q.data(), stored.layer(), stored.block_tables.data(), stored.max_blocks_per_seq,
                    stored.seq_lens.data(), stored.query_start.data(), stored.num_seqs(), 4, 2, 64, 16, scale);
    std::vector<double> expected = exact.reference(scale);
    double max_err = 0;
    for (size_t i = 0; i < out.size(); ++i) max_err = std::max(max_err, std::abs(out[i] - expected[i]));
    EXPECT_LE(max_err, 3 * eps + 0x1.0p-8) << kv_cache_dtype_name(dtype);
    EXPECT_GT(max_err, 0.0) << kv_cache_dtype_name(dtype) << ": the storage should round something";
  }
}

TEST(PagedAttention, LongContextSpansManyPositionTiles) {
  Rng rng(12);
  AttentionCase c{4, 1, 64, 16, {300}, {37}};
  c.build(rng);
  float scale = 0.125f;
  std::vector<float> out(c.q.size());
  paged_attention(out.data(), c.q.data(), c.layer(), c.block_tables.data(), c.max_blocks_per_seq, c.seq_lens.data(),
                  c.query_start.data(), c.num_seqs(), c.n_heads, c.n_kv_heads, c.head_dim, c.block_size, scale);
  expect_near_reference(out, c.reference(scale), attention_tolerance(64, scale), "dispatch");
}

TEST(PagedAttention, RejectsInconsistentArguments) {
  Rng rng(13);
  AttentionCase c{4, 2, 8, 16, {5}, {3}};
  c.build(rng);
  std::vector<float> out(c.q.size());
  auto run = [&](int n_heads, int n_kv_heads, std::vector<int32_t> seq_lens, int max_blocks_per_seq) {
    paged_attention(out.data(), c.q.data(), c.layer(), c.block_tables.data(), max_blocks_per_seq, seq_lens.data(),
                    c.query_start.data(), 1, n_heads, n_kv_heads, 8, 16, 1.0f);
  };
  EXPECT_THROW(run(4, 3, {8}, c.max_blocks_per_seq), Error);  // heads not a multiple of kv heads
  EXPECT_THROW(run(4, 2, {2}, c.max_blocks_per_seq), Error);  // fewer cached tokens than query tokens
  EXPECT_THROW(run(4, 2, {40}, 2), Error);                    // 40 tokens need 3 blocks of 16
  c.block_tables[0] = -1;
  EXPECT_THROW(run(4, 2, {8}, c.max_blocks_per_seq), Error);  // unassigned block in use
}

}  // namespace
}  // namespace pagedllm
