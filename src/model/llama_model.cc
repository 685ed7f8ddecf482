#include "model/llama_model.h"

#include <array>
#include <cmath>
#include <cstring>

#include "dist/communicator.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"
#include "kernels/matmul_group.h"
#include "model/lora_adapters.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

void ensure_size(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

void add_bias(float* y, const std::vector<float>& bias, int64_t n_rows) {
  if (bias.empty()) return;
  const int64_t n = static_cast<int64_t>(bias.size());
  for (int64_t r = 0; r < n_rows; ++r) add_inplace(y + r * n, bias.data(), n);
}

}  // namespace

LlamaModel::LlamaModel(ModelWeights weights) : weights_(std::move(weights)), inv_freq_(weights_.config.rope_inv_freq()) {
  // Weights assembled by hand (tests, training) leave the shard's view unset.
  weights_.shard_config = shard_model_config(weights_.config, weights_.shard.size);
}

void LlamaModel::linear(int layer, int module, const float* x, float* y, const ForwardBatch& batch) {
  weights_.layers[layer].linear(module).matmul(x, y, batch.n_tokens);
  finish_linear(layer, module, x, y, batch);
}

void LlamaModel::linear_group(std::initializer_list<GroupedLinear> linears, int layer, const float* x,
                              const ForwardBatch& batch) {
  std::vector<GroupedProduct> products;
  products.reserve(linears.size());
  for (const GroupedLinear& l : linears) products.push_back({&weights_.layers[layer].linear(l.module), l.y});
  matmul_group(products, x, batch.n_tokens);
  for (const GroupedLinear& l : linears) finish_linear(layer, l.module, x, l.y, batch);
}

void LlamaModel::finish_linear(int layer, int module, const float* x, float* y, const ForwardBatch& batch) {
  const WeightMatrix& w = weights_.layers[layer].linear(module);
  apply_loras(layer, module, x, y, w.n_in(), w.n_out(), batch);
  add_bias(y, weights_.layers[layer].biases[module], batch.n_tokens);
}

void LlamaModel::apply_loras(int layer, int module, const float* x, float* y, int64_t n_in, int64_t n_out,
                             const ForwardBatch& batch) {
  if (loras_ == nullptr || batch.lora_slots == nullptr) return;
  for (int s = 0; s < batch.num_seqs; ++s) {
    if (batch.lora_slots[s] == 0) continue;
    loras_->apply(batch.lora_slots[s], layer, module, x, y, batch.query_start[s], batch.query_start[s + 1], n_in, n_out);
  }
}

void LlamaModel::attention_block(int layer, const ForwardBatch& batch, PagedKVCache& cache) {
  const ModelConfig& c = weights_.shard_config;
  const LayerWeights& L = weights_.layers[layer];
  const int64_t n = batch.n_tokens, h = c.hidden_size;

  rmsnorm(xn_.data(), x_.data(), L.input_layernorm.data(), n, h, static_cast<float>(c.rms_norm_eps));
  linear_group({{kQProj, q_.data()}, {kKProj, k_.data()}, {kVProj, v_.data()}}, layer, xn_.data(), batch);
  rope(q_.data(), batch.positions, n, c.num_attention_heads, c.head_dim, c.head_dim, inv_freq_.data());
  rope(k_.data(), batch.positions, n, c.num_key_value_heads, c.head_dim, c.head_dim, inv_freq_.data());
  const KVCacheLayer kv = cache.layer(layer);
  reshape_and_cache(k_.data(), v_.data(), kv, batch.slot_mapping, n, c.num_key_value_heads, c.head_dim,
                    cache.block_size());
  paged_attention(attn_.data(), q_.data(), kv, batch.block_tables, batch.max_blocks_per_seq, batch.seq_lens, batch.query_start, batch.num_seqs, c.num_attention_heads,
                  c.num_key_value_heads, c.head_dim, cache.block_size(), 1.0f / std::sqrt(float(c.head_dim)));
  linear(layer, kOProj, attn_.data(), xn_.data(), batch);
  if (weights_.shard.is_sharded()) Communicator::world().all_reduce_sum(xn_.data(), n * h);
  add_inplace(x_.data(), xn_.data(), n * h);
}

void LlamaModel::mlp_block(int layer, const ForwardBatch& batch) {
  const ModelConfig& c = weights_.shard_config;
  const LayerWeights& L = weights_.layers[layer];
  const int64_t n = batch.n_tokens, h = c.hidden_size;
  rmsnorm(xn_.data(), x_.data(), L.post_attention_layernorm.data(), n, h, static_cast<float>(c.rms_norm_eps));
  linear_group({{kGateProj, gate_.data()}, {kUpProj, up_.data()}}, layer, xn_.data(), batch);
  silu_mul(gate_.data(), gate_.data(), up_.data(), n * c.intermediate_size);
  linear(layer, kDownProj, gate_.data(), xn_.data(), batch);
  if (weights_.shard.is_sharded()) Communicator::world().all_reduce_sum(xn_.data(), n * h);
  add_inplace(x_.data(), xn_.data(), n * h);
}

void LlamaModel::set_max_chunk_rows(int64_t rows) {
  PAGEDLLM_CHECK_MSG(rows >= kMaxChunkRows, "max_chunk_rows {} is below {}", rows, kMaxChunkRows);
  max_chunk_rows_ = rows;
}

size_t LlamaModel::workspace_bytes() const {
  size_t floats = 0;
  for (const ActivationBuffer* b : {&x_, &xn_, &q_, &k_, &v_, &attn_, &gate_, &up_, &final_}) floats += b->capacity();
  return floats * sizeof(float);
}

// Floats per row of each workspace, in the order x_, xn_, q_, k_, v_, attn_, gate_, up_.
std::array<int64_t, 8> LlamaModel::row_floats() const {
  const ModelConfig& c = weights_.shard_config;
  const int64_t h = c.hidden_size, q = int64_t(c.num_attention_heads) * c.head_dim;
  const int64_t kv = int64_t(c.num_key_value_heads) * c.head_dim;
  return {h, std::max(h, q), q, kv, kv, q, c.intermediate_size, c.intermediate_size};
}

void LlamaModel::forward_chunk(const ForwardBatch& chunk, PagedKVCache& cache) {
  const ModelConfig& c = weights_.shard_config;
  const int64_t n = chunk.n_tokens, h = c.hidden_size;
  const std::array<int64_t, 8> per_row = row_floats();
  ActivationBuffer* buffers[] = {&x_, &xn_, &q_, &k_, &v_, &attn_, &gate_, &up_};
  for (size_t i = 0; i < per_row.size(); ++i) buffers[i]->reserve(size_t(n * per_row[i]));
  for (int64_t t = 0; t < n; ++t) weights_.embed_tokens->dequantize_row(chunk.token_ids[t], x_.data() + t * h);
  for (int layer = 0; layer < c.num_hidden_layers; ++layer) {
    attention_block(layer, chunk, cache);
    mlp_block(layer, chunk);
  }
}

void LlamaModel::forward(const ForwardBatch& batch, PagedKVCache& cache, float* logits) {
  const ModelConfig& c = weights_.shard_config;
  const int64_t n = batch.n_tokens, h = c.hidden_size;
  PAGEDLLM_CHECK(n > 0);
  // Ids and rows are checked before the first chunk writes to the cache.
  for (int64_t t = 0; t < n; ++t) {
    const int32_t id = batch.token_ids[t];
    PAGEDLLM_CHECK_MSG(id >= 0 && id < c.vocab_size, "token id {} outside the vocabulary", id);
  }
  for (int j = 0; j < batch.num_logits; ++j) {
    PAGEDLLM_CHECK_MSG(batch.logits_rows[j] >= 0 && batch.logits_rows[j] < n, "logits row {} of a batch of {}",
                       batch.logits_rows[j], n);
  }
  final_.reserve(size_t(batch.num_logits) * h);
  // Near-equal chunks starting on multiples of kChunkRowAlign rows: with n > max_chunk_rows_, each has more than
  // max_chunk_rows_ / 2 - kChunkRowAlign rows.
  const int64_t num_chunks = (n + max_chunk_rows_ - 1) / max_chunk_rows_;
  auto chunk_start = [&](int64_t i) { return i == num_chunks ? n : n * i / num_chunks / kChunkRowAlign * kChunkRowAlign; };
  int64_t most_rows = 0;
  for (int64_t i = 0; i < num_chunks; ++i) {
    const int64_t r0 = chunk_start(i), r1 = chunk_start(i + 1);
    most_rows = std::max(most_rows, r1 - r0);
    forward_chunk(num_chunks == 1 ? batch : chunk_.assign(batch, r0, r1), cache);
    // The chunk's rows that are sampled keep their last hidden state until the LM head.
    for (int j = 0; j < batch.num_logits; ++j) {
      const int64_t row = batch.logits_rows[j];
      if (row < r0 || row >= r1) continue;
      std::memcpy(final_.data() + int64_t(j) * h, x_.data() + (row - r0) * h, h * sizeof(float));
    }
  }
  if (batch.num_logits > 0) {
    rmsnorm(final_.data(), final_.data(), weights_.norm.data(), batch.num_logits, h,
            static_cast<float>(c.rms_norm_eps));
    if (weights_.shard.is_sharded()) {
      lm_head_sharded(batch.num_logits, logits);
    } else {
      weights_.lm_head->matmul(final_.data(), logits, batch.num_logits);
    }
  }
  const std::array<int64_t, 8> per_row = row_floats();
  ActivationBuffer* buffers[] = {&x_, &xn_, &q_, &k_, &v_, &attn_, &gate_, &up_};
  for (size_t i = 0; i < per_row.size(); ++i) buffers[i]->release_after(size_t(most_rows * per_row[i]));
  final_.release_after(size_t(batch.num_logits) * h);
}

void LlamaModel::lm_head_sharded(int num_logits, float* logits) {
  const int64_t vocab = weights_.config.vocab_size, own = weights_.lm_head->n_out();
  const int size = weights_.shard.size;
  const int64_t padded = padded_vocab_rows(vocab, size);
  // Each rank's (num_logits, padded) block, its pad columns zero, gathered in rank order into
  // (size, num_logits, padded) and transposed into (num_logits, vocab).
  ensure_size(shard_logits_, size_t(num_logits) * own);
  weights_.lm_head->matmul(final_.data(), shard_logits_.data(), num_logits);
  ensure_size(padded_logits_, size_t(num_logits) * padded);
  std::fill(padded_logits_.begin(), padded_logits_.end(), 0.0f);
  for (int i = 0; i < num_logits; ++i) {
    std::memcpy(padded_logits_.data() + i * padded, shard_logits_.data() + i * own, size_t(own) * sizeof(float));
  }
  ensure_size(gathered_logits_, size_t(size) * num_logits * padded);
  Communicator::world().all_gather(padded_logits_.data(), int64_t(num_logits) * padded, gathered_logits_.data());
  for (int r = 0; r < size; ++r) {
    const int64_t begin = r * padded, count = std::min(vocab, begin + padded) - std::min(vocab, begin);
    for (int i = 0; i < num_logits; ++i) {
      std::memcpy(logits + i * vocab + begin, gathered_logits_.data() + (int64_t(r) * num_logits + i) * padded,
                  size_t(std::max<int64_t>(count, 0)) * sizeof(float));
    }
  }
}

}  // namespace pagedllm
