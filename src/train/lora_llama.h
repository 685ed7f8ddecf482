// A Llama-family model prepared for LoRA training: the frozen base (ModelWeights, linear layers in any format,
// NF4 for QLoRA) with LoRA adapters on chosen linear layers of the blocks. Forward and backward run over a right-
// padded Batch with gradient checkpointing per block: the forward keeps only each block's input and attention
// outputs, and the backward recomputes one block's activations right before its block_backward (llama_block.h).
//
//   x_0 = embed(ids)  →  x_{L+1} = block_L(x_L)  →  xf = rmsnorm(x_N; norm)  →  logits = xf·lm_headᵀ  →  CE loss
//
// Only the LoRA A/B matrices get gradients (accumulated into grads(), kernels/gradients.h); the embedding, norms and
// frozen weights stay as loaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_weights.h"
#include "train/data_loader.h"
#include "train/llama_block.h"
#include "formats/peft_adapter.h"

namespace pagedllm {

class LoraLlama {
 public:
  // Borrows base (which must outlive this). modules: the adapters (init_lora_modules or a loaded adapter), each on
  // a layer of base with the shapes of its linear layer; scale = lora_alpha / r; dropout applies in training only.
  // q/k/v biases (Qwen2) are added as frozen constants. Throws Error(kUnsupported) for a family with MLP biases,
  // Error(kInvalidArgument) for a module that does not match the base.
  LoraLlama(const ModelWeights& base, std::vector<LoraModuleWeights> modules, double scale, float dropout);

  LoraLlama(const LoraLlama&) = delete;
  LoraLlama& operator=(const LoraLlama&) = delete;

  // Forward and backward of one micro-batch: grads += ∂(Σ loss over batch's targets / num_targets)/∂(A, B).
  // Returns that partial loss. dropout_seed_base: the run seed; (step, micro_batch) pick the dropout masks
  // (lora.h dropout_seed). num_targets: the target count of the whole accumulated step (≥ the batch's).
  double forward_backward(const Batch& batch, uint64_t run_seed, int64_t step, int64_t micro_batch,
                          int64_t num_targets);

  // Σ over the batch's targets of the token loss, without dropout and without gradients.
  double loss_sum(const Batch& batch);

  // logits (n_seqs·seq_len, vocab) of every position, without dropout (for tests and evaluation).
  std::vector<float> logits(const Batch& batch);

  // On (the default): keep only block inputs and attention outputs, and recompute the rest of each block in
  // backward. Off: keep every block's activations from the forward (more memory, no recomputation). Same numbers
  // either way.
  void set_gradient_checkpointing(bool is_enabled) { is_checkpointing_ = is_enabled; }

  std::vector<LoraModuleWeights>& modules() { return modules_; }
  std::vector<LoraModuleWeights>& grads() { return grads_; }
  const ModelConfig& config() const { return base_.config; }

 private:
  // Runs the blocks: xs[L] = input of block L (xs.size() == num_layers + 1); saved[L] = block L's activations
  // when saved is not null, else they are dropped (checkpointing), except, when attention is not null, each block's
  // attention outputs ((*attention)[L]) for its recompute.
  void forward_blocks(std::vector<std::vector<float>>& xs, std::vector<BlockActivations<float>>* saved,
                      const Batch& batch, bool is_training, uint64_t run_seed, int64_t step, int64_t micro_batch,
                      std::vector<BlockAttentionOutputs<float>>* attention = nullptr);
  void final_logits(std::vector<float>& xf, std::vector<float>& rstd, std::vector<float>& logits,
                    const std::vector<float>& x_last, int64_t n) const;
  void bind_weights();
  BlockBatch block_batch(const Batch& batch, bool is_training, uint64_t run_seed, int64_t step, int64_t micro_batch,
                         int64_t layer) const;

  const ModelWeights& base_;
  BlockConfig block_config_;
  std::vector<float> inv_freq_;
  std::vector<LoraModuleWeights> modules_;
  std::vector<LoraModuleWeights> grads_;
  double scale_;
  float dropout_;
  bool is_checkpointing_ = true;
  std::vector<BlockWeights<float>> train_weights_;  // per layer, with dropout
  std::vector<BlockWeights<float>> eval_weights_;   // per layer, dropout 0
  // The (tokens × vocab) logits of forward_backward, then their gradient, kept between steps: at 50-100 MB they are
  // above malloc's mmap threshold, so a fresh buffer each step would be page-faulted and zeroed again.
  std::vector<float> logits_;
  // Each block's attention outputs from forward_backward's forward, for its recompute (kept between steps, like
  // logits_).
  std::vector<BlockAttentionOutputs<float>> attention_outputs_;
};

}  // namespace pagedllm
