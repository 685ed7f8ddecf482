// The Llama-family decoder (Llama, Mistral, Qwen2) over a flattened batch and a paged KV cache:
// embeddings → N × (RMSNorm, QKV (+bias), RoPE, KV write, paged attention, O, RMSNorm, SwiGLU MLP) → norm → logits.
//
// Thread-safety: one forward at a time (it reuses workspace buffers); kernels parallelize inside.
//
// Memory: a step's rows go through all the layers a chunk of at most max_chunk_rows() rows at a time (a chunk's
// keys and values are in the cache before the next chunk attends to them, as between two steps of a chunked
// prefill), so the workspaces hold one chunk, not the step's 2,048 rows: at SmolLM2-135M's width 11.8 MB instead of
// 47 MB. 512 rows keep the products GEMM-sized (smaller chunks repack every weight once per chunk: 256 rows cost
// about 7% more CPU time per prefill step, 512 none measurable). After each step the workspaces' pages past that
// step's rows go back to the OS (ActivationBuffer), so decode steps keep only their own rows resident.
// The results are those of one pass over the whole step, bit for bit: every row's products, norms and attention are
// computed row by row; a step longer than one chunk is split into near-equal chunks of more than
// max_chunk_rows() / 2 - 8 = 248 rows, above every weight format's few-row (streaming / decode) limit (at most 64),
// so each product takes the kernel it takes over the whole step; and chunks start on multiples of 8 rows, so the
// SwiGLU's vector blocks fall where they fall over the whole step (see silu_mul_blocks).
//
// Tensor parallelism (weights loaded with a TensorParallelShard): every rank runs forward on the same batch with its
// slices; the row-parallel o_proj and down_proj outputs are summed over the ranks (Communicator::all_reduce_sum,
// rank order, so every rank holds the same bits) and the vocabulary-split logits are all-gathered. Every rank must
// call forward with the same batch, in the same order.
#pragma once

#include <array>
#include <initializer_list>
#include <memory>
#include <vector>

#include "model/activation_buffer.h"
#include "model/forward_batch.h"
#include "model/forward_batch_chunk.h"
#include "model/model_weights.h"
#include "model/paged_kv_cache.h"

namespace pagedllm {

class LoraManager;

class LlamaModel {
 public:
  explicit LlamaModel(ModelWeights weights);

  const ModelConfig& config() const { return weights_.config; }
  const ModelWeights& weights() const { return weights_; }

  // Adapters applied per sequence through ForwardBatch::lora_slots; null for none.
  void set_lora_manager(const LoraManager* loras) { loras_ = loras; }

  // logits: (batch.num_logits, vocab) for the rows listed in batch.logits_rows.
  void forward(const ForwardBatch& batch, PagedKVCache& cache, float* logits);

  // Rows per chunk of a step (see Memory above). kMaxChunkRows by default; tests set a larger value to run a
  // step in one pass and compare. Must be at least kMaxChunkRows so that chunks stay above the few-row limits.
  static constexpr int64_t kMaxChunkRows = 512;
  static constexpr int64_t kChunkRowAlign = 8;
  int64_t max_chunk_rows() const { return max_chunk_rows_; }
  void set_max_chunk_rows(int64_t rows);

  // Bytes mapped for the forward's workspaces (the activations of one chunk and the rows whose logits are wanted),
  // resident or not.
  size_t workspace_bytes() const;

 private:
  // Floats per row of x_, xn_, q_, k_, v_, attn_, gate_, up_.
  std::array<int64_t, 8> row_floats() const;
  // The chunk's rows from the embeddings through the last layer into x_ (rows, hidden).
  void forward_chunk(const ForwardBatch& chunk, PagedKVCache& cache);
  void attention_block(int layer, const ForwardBatch& batch, PagedKVCache& cache);
  void mlp_block(int layer, const ForwardBatch& batch);
  // y = x·Wᵀ of the layer's module (a LinearModule), then its adapters and its bias.
  void linear(int layer, int module, const float* x, float* y, const ForwardBatch& batch);
  // Modules sharing the input x (q/k/v, gate/up) as one matmul_group, then each one's adapters and bias.
  struct GroupedLinear {
    int module;
    float* y;
  };
  void linear_group(std::initializer_list<GroupedLinear> linears, int layer, const float* x, const ForwardBatch& batch);
  void finish_linear(int layer, int module, const float* x, float* y, const ForwardBatch& batch);
  // The LM head of a vocabulary-split rank: its rows' logits, all-gathered into logits (num_logits, vocab).
  void lm_head_sharded(int num_logits, float* logits);
  void apply_loras(int layer, int module, const float* x, float* y, int64_t n_in, int64_t n_out,
                   const ForwardBatch& batch);

  ModelWeights weights_;
  std::vector<float> inv_freq_;
  const LoraManager* loras_ = nullptr;
  int64_t max_chunk_rows_ = kMaxChunkRows;
  ForwardBatchChunk chunk_;
  // Workspaces mapped for the largest chunk seen so far (final_: the most logits rows), resident for the last step's.
  ActivationBuffer x_, xn_, q_, k_, v_, attn_, gate_, up_, final_;
  std::vector<float> shard_logits_, padded_logits_, gathered_logits_;
};

}  // namespace pagedllm
