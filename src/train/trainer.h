// The fine-tuning loop of `pagedllm finetune`: data → batches → LoRA forward/backward through the frozen (quantized)
// base → gradient clipping → paged AdamW step under the LR schedule, with evaluation, a CSV log, atomic
// checkpoints that resume exactly, and a PEFT adapter at the end.
//
// Output folder: adapter_config.json + adapter_model.safetensors (final adapter), training_log.csv
// (step,loss,eval_loss,lr), checkpoint/ (the last checkpoint: training_state.safetensors and its adapter).
// Deterministic: the same configuration and seed give a bit-identical adapter, whatever the optimizer memory budget,
// the number of data-parallel ranks, and wherever a resumed run was interrupted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/model_weights.h"
#include "train/instruction_data.h"
#include "formats/peft_adapter.h"
#include "train/tokenized_example.h"
#include "train/trainer_config.h"

namespace pagedllm {

// The model's tokenizer as the trainer needs it (train/ does not link the tokenizer library; the CLI binds these).
struct TrainingTokenizer {
  TokenizeFn tokenize;
  ChatTemplateFn chat_template;  // may be empty when the data has no "messages" lines
  int32_t eos_id = -1;
  int32_t pad_id = 0;
};

struct StepLog {
  int64_t step = 0;                   // 1-based optimizer step just completed
  int64_t num_steps = 0;              // total of the run
  double loss = 0.0;                  // mean token loss of the step's batches
  std::optional<double> eval_loss;    // when evaluated after this step
  double lr = 0.0;
  double grad_norm = 0.0;             // before clipping
  int64_t num_tokens = 0;             // real tokens of the step
};

struct FinetuneResult {
  std::vector<StepLog> steps;         // the steps this invocation ran (after the resumed step)
  std::optional<double> final_eval_loss;
  std::vector<LoraModuleWeights> modules;  // the trained adapter, as saved
  size_t num_evictions = 0;           // paged optimizer counters
  size_t num_page_ins = 0;
  size_t optimizer_state_bytes = 0;
  double tokens_per_second = 0.0;
  size_t peak_resident_bytes = 0;     // VmHWM
  int num_ranks = 1;                  // data-parallel ranks (mpirun -np)
  double all_reduce_bytes_per_step = 0.0;    // gradient bytes all-reduced (data_parallel.h)
  double all_reduce_seconds_per_step = 0.0;  // time in them, waiting for slower ranks included
};

// How the base is loaded for training or merging: the blocks' linear layers quantized while loading (or dense for
// "none"), every dense matrix (the embeddings, the LM head, the linear layers of "none") in `dense_dtype`
// ("float32", or "bfloat16" for a fine-tune computing in bf16, as qlora.py casts them with --bf16: half the memory,
// and the products take the bf16 GEMM). Throws Error(kInvalidArgument) for an unknown format.
WeightLoadOptions training_load_options(const std::string& quantization, bool double_quant, bool is_dummy,
                                        uint64_t seed, const std::string& dense_dtype);

// Runs (or resumes) a fine-tuning run. Throws Error for bad flags, data or model (before training starts).
// Under an MPI launcher every rank calls it with the same configuration: data parallelism over
// Communicator::world() (data_parallel.h), rank 0 alone writing the output folder; every rank returns the same
// result.
FinetuneResult run_finetune(const TrainerConfig& config, const TrainingTokenizer& tokenizer);

}  // namespace pagedllm
