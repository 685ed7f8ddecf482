// Data-parallel fine-tuning (`mpirun -np N pagedllm finetune`): every rank holds the whole adapter and optimizer
// state, runs a share of each optimizer step's micro-batches, and the ranks sum their LoRA gradients so that every
// rank takes the same optimizer step.
//
// Sharing out: every rank replays the same DataLoader and draws all G micro-batches of the step (cheap next to a
// forward), so each knows the step's target count — the loss normalizer — and the dropout keys (step, micro-batch)
// without a message. Micro-batch i runs on rank i mod N, in rounds: round k runs micro-batches kN … kN + N − 1.
//
// Why the result does not depend on N, bit for bit: the step's gradient is defined as ((g₀ + g₁) + g₂) + … with
// each micro-batch's gradient g_i computed into zeroed buffers, for every N including 1. In round k rank 0
// contributes (running total + g_kN) and rank r contributes g_kN+r (zeros when idle); the all-reduce
// (Communicator::all_reduce_sum_scattered) adds in rank order, so the round continues exactly that left-to-right
// sum. Per-slot values (losses) are summed the same way: each rank fills its own slots of a zeroed vector, the
// all-reduce adds exact zeros, and every rank then adds the slots in index order. What stays: GEMM results must
// not depend on the thread count (they split output columns only; tests compare with one thread per rank anyway).
//
// Cost: ⌈G/N⌉ all-reduces of one flat fp32 buffer over all LoRA parameters per step (G = N: one; a larger
// --batch-size rather than more rounds keeps it at one), and one such buffer of memory (none for a single process
// without gradient accumulation), plus the all-reduce's 32 MiB of scratch.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "dist/communicator.h"
#include "formats/peft_adapter.h"
#include "train/checkpoint.h"
#include "train/paged_adamw.h"
#include "train/tokenized_example.h"

namespace pagedllm {

class GradientReducer {
 public:
  explicit GradientReducer(Communicator& comm) : comm_(comm) {}

  int64_t num_rounds(int64_t num_micro_batches) const;
  // The micro-batch this rank runs in `round`, or -1 when it has none (G not a multiple of N).
  int64_t micro_batch_of(int64_t round, int64_t num_micro_batches) const;

  // Call at the start of each step, then once per round after this rank ran its micro-batch (if any) into zeroed
  // grads, then finish_step. finish_step leaves the step's summed gradient in grads, the same bits on every rank.
  void begin_step(int64_t num_micro_batches);
  void reduce_round(const std::vector<LoraModuleWeights>& grads, bool has_gradient);
  void finish_step(std::vector<LoraModuleWeights>& grads);

  // Bytes of the buffers this rank all-reduced (on the wire each rank sends and receives 2(N−1)/N of them), and
  // seconds spent in the all-reduces (waiting for slower ranks included).
  int64_t reduced_bytes() const { return reduced_bytes_; }
  double reduce_seconds() const { return reduce_seconds_; }

 private:
  Communicator& comm_;
  bool is_pass_through_ = false;  // one rank, one micro-batch: grads already hold the step's sum
  std::vector<float> sum_;        // flat A₀, B₀, A₁, B₁, …: the running total, or this round's contribution
  int64_t reduced_bytes_ = 0;
  double reduce_seconds_ = 0.0;
};

// Σ values[i] in index order, where each rank set only the slots it computed and left the others 0.0: the same
// double on every rank and for every N. Collective.
double sum_slots_in_order(Communicator& comm, std::vector<double> values);

// Throws Error(kCorrupt) on every rank when any rank's LoRA weights differ in any bit from rank 0's (a bug or a
// nondeterministic kernel); checked before each checkpoint and the final adapter. Collective.
void check_replicas_agree(Communicator& comm, const std::vector<LoraModuleWeights>& modules);

// Throws Error(kInvalidArgument) on every rank when any rank tokenized other examples than rank 0 (machines with
// different --data files or tokenizers), before a step runs. Collective.
void check_same_examples(Communicator& comm, const std::vector<TokenizedExample>& examples, std::string_view what);

// After rank 0 alone loaded a checkpoint (is_resumed: whether it found one), gives every rank the same weights,
// optimizer state and progress, so that the other ranks need neither the file nor a shared file system.
// Returns is_resumed as rank 0 had it. Collective.
bool broadcast_resume_state(Communicator& comm, bool is_resumed, std::vector<LoraModuleWeights>& modules,
                            PagedAdamW& optimizer, TrainingProgress& progress);

}  // namespace pagedllm
