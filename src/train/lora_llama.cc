#include "train/lora_llama.h"

#include <cstring>

#include "kernels/cross_entropy.h"
#include "train/lora.h"
#include "train/lora_linear.h"
#include "train/lora_parameters.h"
#include "kernels/rmsnorm.h"
#include "util/error.h"

namespace pagedllm {

LoraLlama::LoraLlama(const ModelWeights& base, std::vector<LoraModuleWeights> modules, double scale, float dropout)
    : base_(base), modules_(std::move(modules)), scale_(scale), dropout_(dropout) {
  const ModelConfig& c = base.config;
  inv_freq_ = c.rope_inv_freq();
  block_config_ = BlockConfig{c.hidden_size,  c.intermediate_size, c.num_attention_heads, c.num_key_value_heads,
                              c.head_dim,     c.head_dim,          c.rms_norm_eps,        inv_freq_.data()};
  grads_ = zero_like(modules_);
  bind_weights();
}

void LoraLlama::bind_weights() {
  const int num_layers = base_.config.num_hidden_layers;
  train_weights_.assign(num_layers, {});
  for (int l = 0; l < num_layers; ++l) {
    const LayerWeights& layer = base_.layers[l];
    BlockWeights<float>& w = train_weights_[l];
    w.attn_norm = layer.input_layernorm.data();
    w.mlp_norm = layer.post_attention_layernorm.data();
    // Biases (Qwen2's q/k/v, Llama's attention_bias and mlp_bias) are frozen like the weights.
    for (int m = 0; m < kNumLinearModules; ++m) {
      const WeightMatrix& W = layer.linear(m);
      const float* bias = layer.biases[m].empty() ? nullptr : layer.biases[m].data();
      w.linears[m].base = frozen_linear(W, bias);
      w.linears[m].dims = LoraDims{W.n_in(), W.n_out(), 0, scale_, dropout_};
    }
  }
  for (size_t i = 0; i < modules_.size(); ++i) {
    LoraModuleWeights& mod = modules_[i];
    const int m = find_linear_module(mod.module);
    if (mod.layer < 0 || mod.layer >= num_layers || m < 0) {
      throw_error(ErrorKind::kInvalidArgument, "LoRA module layers.{}.{} is not a linear layer of the model",
                  mod.layer, mod.module);
    }
    LoraLinear<float>& lin = train_weights_[mod.layer].linears[m];
    if (mod.n_in != lin.dims.n_in || mod.n_out != lin.dims.n_out) {
      throw_error(ErrorKind::kInvalidArgument, "LoRA module layers.{}.{} is ({}, {}) but the layer is ({}, {})",
                  mod.layer, mod.module, mod.n_out, mod.n_in, lin.dims.n_out, lin.dims.n_in);
    }
    lin.A = mod.A.data();
    lin.B = mod.B.data();
    lin.dA = grads_[i].A.data();
    lin.dB = grads_[i].B.data();
    lin.dims.rank = mod.rank;
  }
  eval_weights_ = train_weights_;
  for (auto& w : eval_weights_) {
    for (auto& lin : w.linears) lin.dims.dropout = 0.0f;
  }
}

BlockBatch LoraLlama::block_batch(const Batch& batch, bool is_training, uint64_t run_seed, int64_t step,
                                  int64_t micro_batch, int64_t layer) const {
  return BlockBatch{batch.n_seqs, batch.seq_len, batch.positions.data(),
                    is_training ? dropout_seed(run_seed, step, micro_batch, layer, 0) : 0};
}

void LoraLlama::forward_blocks(std::vector<std::vector<float>>& xs, std::vector<BlockActivations<float>>* saved,
                               const Batch& batch, bool is_training, uint64_t run_seed, int64_t step,
                               int64_t micro_batch, std::vector<BlockAttentionOutputs<float>>* attention) {
  const int num_layers = base_.config.num_hidden_layers;
  const int64_t n = batch.n_seqs * batch.seq_len, dim = block_config_.dim;
  xs.assign(num_layers + 1, std::vector<float>(n * dim));
  for (int64_t t = 0; t < n; ++t) base_.embed_tokens->dequantize_row(batch.input_ids[t], xs[0].data() + t * dim);
  const auto& weights = is_training ? train_weights_ : eval_weights_;
  BlockActivations<float> acts;
  if (saved != nullptr) saved->resize(num_layers);
  if (attention != nullptr) attention->resize(num_layers);
  for (int l = 0; l < num_layers; ++l) {
    BlockActivations<float>& a = saved != nullptr ? (*saved)[l] : acts;
    block_forward(xs[l + 1].data(), a, xs[l].data(), weights[l], block_config_,
                  block_batch(batch, is_training, run_seed, step, micro_batch, l));
    if (attention != nullptr) {
      BlockAttentionOutputs<float>& kept = (*attention)[l];
      kept.att = a.att;
      kept.lse = a.lse;
      kept.h = a.h;
    }
  }
}

void LoraLlama::final_logits(std::vector<float>& xf, std::vector<float>& rstd, std::vector<float>& logits,
                             const std::vector<float>& x_last, int64_t n) const {
  const int64_t dim = block_config_.dim;
  xf.resize(n * dim);
  rstd.resize(n);
  logits.resize(n * base_.config.vocab_size);
  rmsnorm_forward<float>(xf.data(), rstd.data(), x_last.data(), base_.norm.data(), n, dim,
                         static_cast<float>(block_config_.eps));
  base_.lm_head->matmul_exact(xf.data(), logits.data(), n);
}

double LoraLlama::forward_backward(const Batch& batch, uint64_t run_seed, int64_t step, int64_t micro_batch,
                                   int64_t num_targets) {
  const int num_layers = base_.config.num_hidden_layers;
  const int64_t n = batch.n_seqs * batch.seq_len, dim = block_config_.dim, vocab = base_.config.vocab_size;
  std::vector<std::vector<float>> xs;
  std::vector<BlockActivations<float>> saved;
  // Checkpointing keeps each block's input and its attention outputs (selective checkpointing: the recompute then
  // skips the attention forward and the o projection's frozen product, ~6% of a step, for 2.4 MB a layer).
  forward_blocks(xs, is_checkpointing_ ? nullptr : &saved, batch, true, run_seed, step, micro_batch,
                 is_checkpointing_ ? &attention_outputs_ : nullptr);
  std::vector<float> xf, rstd, lse(n);
  std::vector<float>& logits = logits_;
  final_logits(xf, rstd, logits, xs[num_layers], n);
  const double loss =
      cross_entropy_forward<float>(lse.data(), logits.data(), batch.targets.data(), n, vocab, num_targets);

  // logits' storage becomes dlogits (cross_entropy.h allows the alias).
  cross_entropy_backward<float>(logits.data(), logits.data(), lse.data(), batch.targets.data(), n, vocab,
                                num_targets, 1.0f);
  std::vector<float> dxf(n * dim), dx(n * dim), dx_prev(n * dim);
  base_.lm_head->matmul_backward_input(logits.data(), dxf.data(), n);
  rmsnorm_backward<float>(dx.data(), nullptr, dxf.data(), xs[num_layers].data(), base_.norm.data(), rstd.data(), n,
                          dim);
  BlockActivations<float> recomputed;
  for (int l = num_layers - 1; l >= 0; --l) {
    const BlockBatch bb = block_batch(batch, true, run_seed, step, micro_batch, l);
    if (is_checkpointing_) {
      // Only the activations: xs[l + 1], the block's output, is already known.
      block_forward<float>(nullptr, recomputed, xs[l].data(), train_weights_[l], block_config_, bb,
                           &attention_outputs_[l]);
    }
    const BlockActivations<float>& acts = is_checkpointing_ ? recomputed : saved[l];
    block_backward(dx_prev.data(), dx.data(), xs[l].data(), acts, train_weights_[l], block_config_, bb);
    std::swap(dx, dx_prev);
  }
  return loss;
}

double LoraLlama::loss_sum(const Batch& batch) {
  const int64_t n = batch.n_seqs * batch.seq_len;
  if (batch.num_targets == 0) return 0.0;
  std::vector<float> logits_all = logits(batch), lse(n);
  const double mean = cross_entropy_forward<float>(lse.data(), logits_all.data(), batch.targets.data(), n,
                                                   base_.config.vocab_size, batch.num_targets);
  return mean * static_cast<double>(batch.num_targets);
}

std::vector<float> LoraLlama::logits(const Batch& batch) {
  const int64_t n = batch.n_seqs * batch.seq_len;
  std::vector<std::vector<float>> xs;
  forward_blocks(xs, nullptr, batch, false, 0, 0, 0);
  std::vector<float> xf, rstd, out;
  final_logits(xf, rstd, out, xs.back(), n);
  return out;
}

}  // namespace pagedllm
