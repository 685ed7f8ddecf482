#include "model/tensor_parallel_shard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/model_weights.h"
#include "util/error.h"

namespace pagedllm {
namespace {

const std::string kStories = PAGEDLLM_SOURCE_DIR "/models/stories260K";

ModelConfig stories_shape() {
  ModelConfig c;
  c.vocab_size = 512;
  c.hidden_size = 64;
  c.intermediate_size = 172;
  c.num_hidden_layers = 5;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 4;
  c.head_dim = 8;
  return c;
}

TEST(TensorParallelShard, RankConfigHoldsItsShareOfHeadsAndMlp) {
  const ModelConfig two = shard_model_config(stories_shape(), 2);
  EXPECT_EQ(two.num_attention_heads, 4);
  EXPECT_EQ(two.num_key_value_heads, 2);
  EXPECT_EQ(two.intermediate_size, 86);
  EXPECT_EQ(two.hidden_size, 64);
  EXPECT_EQ(two.head_dim, 8);
  ModelConfig wider = stories_shape();
  wider.intermediate_size = 176;  // 172 does not split over 8 ranks
  const ModelConfig eight = shard_model_config(wider, 8);  // 4 KV heads over 8 ranks: one each, replicated
  EXPECT_EQ(eight.num_attention_heads, 1);
  EXPECT_EQ(eight.num_key_value_heads, 1);
}

TEST(TensorParallelShard, UnevenSplitsNameTheCount) {
  try {
    shard_model_config(stories_shape(), 3);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_STREQ(e.what(), "--tensor-parallel-size 3 does not divide the model's num_attention_heads (8): each rank "
                           "must hold an equal share");
  }
  ModelConfig six_kv = stories_shape();
  six_kv.num_attention_heads = 24;
  six_kv.num_key_value_heads = 6;
  six_kv.intermediate_size = 192;
  EXPECT_THROW(shard_model_config(six_kv, 8), Error);  // 8 ranks cannot share 6 KV heads evenly
}

TEST(TensorParallelShard, ModuleSlicesFollowHeadsAndMlpBands) {
  const ModelConfig c = stories_shape();
  auto slice = [&](int module, int rank, int size) { return linear_module_slice(c, module, {rank, size}); };
  MatrixSlice q = slice(kQProj, 1, 2);
  EXPECT_FALSE(q.splits_input);
  EXPECT_EQ(q.begin, 32);
  EXPECT_EQ(q.count, 32);
  MatrixSlice o = slice(kOProj, 1, 2);
  EXPECT_TRUE(o.splits_input);
  EXPECT_EQ(o.begin, 32);
  EXPECT_EQ(o.count, 32);
  MatrixSlice k = slice(kKProj, 3, 4);  // KV head 3 of 4
  EXPECT_EQ(k.begin, 24);
  EXPECT_EQ(k.count, 8);
  ModelConfig wider = c;
  wider.intermediate_size = 176;
  MatrixSlice v = linear_module_slice(wider, kVProj, {5, 8});  // q head 5 reads KV head 5·4/8 = 2
  EXPECT_EQ(v.begin, 16);
  EXPECT_EQ(v.count, 8);
  MatrixSlice down = slice(kDownProj, 3, 4);
  EXPECT_TRUE(down.splits_input);
  EXPECT_EQ(down.begin, 129);
  EXPECT_EQ(down.count, 43);
  MatrixSlice whole = linear_module_slice(c, kUpProj, {});
  EXPECT_EQ(whole.begin, 0);
  EXPECT_EQ(whole.count, 172);
}

TEST(TensorParallelShard, VocabularyIsPaddedToWholeRankShares) {
  EXPECT_EQ(padded_vocab_rows(512, 3), 171);
  const MatrixSlice last = vocab_slice(512, {2, 3});
  EXPECT_EQ(last.begin, 342);
  EXPECT_EQ(last.count, 170);  // one pad row
  EXPECT_EQ(vocab_slice(512, {1, 4}).begin, 128);
}

// Each rank's loaded slices are exactly the rows/columns of the whole matrices; biases-free stories260K keeps
// none; the tied LM head becomes the rank's vocabulary rows of the embeddings.
TEST(TensorParallelShard, LoadedSlicesAreBandsOfTheWholeWeights) {
  const ModelWeights whole = load_model_weights(kStories, {});
  for (int rank = 0; rank < 2; ++rank) {
    WeightLoadOptions options;
    options.shard = {rank, 2};
    const ModelWeights part = load_model_weights(kStories, options);
    EXPECT_EQ(part.shard_config.num_key_value_heads, 2);
    for (int module = 0; module < kNumLinearModules; ++module) {
      const WeightMatrix& w = whole.layers[2].linear(module);
      const WeightMatrix& p = part.layers[2].linear(module);
      const MatrixSlice s = linear_module_slice(whole.config, module, {rank, 2});
      ASSERT_EQ(p.n_out(), s.splits_input ? w.n_out() : s.count) << module;
      ASSERT_EQ(p.n_in(), s.splits_input ? s.count : w.n_in()) << module;
      std::vector<float> full(w.n_in()), mine(p.n_in());
      for (int64_t r = 0; r < p.n_out(); ++r) {
        w.dequantize_row(s.splits_input ? r : s.begin + r, full.data());
        p.dequantize_row(r, mine.data());
        const int64_t offset = s.splits_input ? s.begin : 0;
        for (int64_t i = 0; i < p.n_in(); ++i) ASSERT_EQ(mine[i], full[offset + i]) << module << " row " << r;
      }
    }
    ASSERT_EQ(part.lm_head->n_out(), 256);
    std::vector<float> full(64), mine(64);
    whole.embed_tokens->dequantize_row(rank * 256 + 17, full.data());
    part.lm_head->dequantize_row(17, mine.data());
    EXPECT_EQ(mine, full);
  }
}

}  // namespace
}  // namespace pagedllm
