// The Llama-family decoder (Llama, Mistral, Qwen2) over a flattened batch and a paged KV cache:
// embeddings → N × (RMSNorm, QKV (+bias), RoPE, KV write, paged attention, O, RMSNorm, SwiGLU MLP) → norm → logits.
//
// Thread-safety: one forward at a time (it reuses workspace buffers); kernels parallelize inside.
//
// Tensor parallelism (weights loaded with a TensorParallelShard): every rank runs forward on the same batch with its
// slices; the row-parallel o_proj and down_proj outputs are summed over the ranks (Communicator::all_reduce_sum,
// rank order, so every rank holds the same bits) and the vocabulary-split logits are all-gathered. Every rank must
// call forward with the same batch, in the same order.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "model/forward_batch.h"
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

 private:
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
  // Workspaces sized for the largest batch seen so far.
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_, final_;
  std::vector<float> shard_logits_, padded_logits_, gathered_logits_;
};

}  // namespace pagedllm
