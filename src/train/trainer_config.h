// Every setting of `pagedllm finetune` (issue 6), with the defaults of the QLoRA reference repository
// where it has one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pagedllm {

struct StepLog;

struct TrainerConfig {
  std::string model_dir;
  std::string data_path;    // JSON lines (instruction_data.h)
  std::string output_dir;   // the adapter, training_log.csv and checkpoint/ are written here
  std::string eval_data_path;
  bool is_dummy_weights = false;        // --load-format dummy: random base weights of the config's architecture
  std::string quantization = "nf4";     // nf4, fp4, int4 or none (fp32 base)
  bool double_quant = true;
  int64_t lora_r = 64;
  double lora_alpha = 16;
  double lora_dropout = 0.05;
  std::vector<std::string> target_modules = {"all"};  // "all" or leaf names: q_proj, k_proj, ..., down_proj
  double learning_rate = 2e-4;
  std::string lr_scheduler = "constant";  // constant, constant_with_warmup, linear, cosine
  double warmup_ratio = 0.03;
  double max_grad_norm = 0.3;             // 0: no clipping
  double weight_decay = 0.0;
  int64_t batch_size = 1;
  int64_t gradient_accumulation_steps = 1;
  int64_t max_steps = 0;                  // > 0 overrides epochs
  int64_t epochs = 1;
  int64_t max_seq_len = 512;
  bool train_on_source = false;
  bool group_by_length = false;
  bool gradient_checkpointing = true;
  // qlora.py's bf16 compute dtype: the frozen base's products (forward and dx) in bf16 with fp32 accumulation where
  // the CPU has AVX512-BF16; LoRA weights, gradients, optimizer state and the loss stay fp32. The CLI turns it on
  // where the CPU has it (--bf16 / --no-bf16).
  bool bf16 = false;
  std::string optim = "paged_adamw_32bit";  // paged_adamw_32bit, paged_adamw_8bit, adamw
  size_t optimizer_memory = 0;              // resident bytes of the paged optimizer state; 0: unlimited
  int64_t save_steps = 0;                   // 0: no intermediate checkpoints
  int64_t eval_steps = 0;                   // 0: evaluate only at the end (when eval data is given)
  uint64_t seed = 42;
  bool resume = false;                      // continue from output_dir/checkpoint when it exists
  bool show_progress = true;                // the progress bar on stderr
  // Called after every optimizer step (after its checkpoint, if any). Exceptions propagate out of run_finetune,
  // which leaves the output folder as a killed run would.
  std::function<void(const StepLog&)> on_step;
};

}  // namespace pagedllm
