// Learning-rate schedules of Hugging Face transformers' get_scheduler (optimization.py), as multipliers of the
// peak learning rate. The optimizer step with 0-based index `step` uses peak_lr · lr_multiplier(step).
#pragma once

#include <cstdint>
#include <string>

namespace pagedllm {

enum class LrSchedule {
  kConstant,             // 1 everywhere: HF's "constant" ignores warmup
  kConstantWithWarmup,   // step/warmup during warmup, then 1
  kLinear,               // warmup, then linear decay to 0 at num_training_steps
  kCosine,               // warmup, then half a cosine to 0 at num_training_steps
};

// "constant", "constant_with_warmup", "linear" or "cosine"; Error(kInvalidArgument) naming the value otherwise.
LrSchedule parse_lr_schedule(const std::string& name);

// HF TrainingArguments.get_warmup_steps: ceil(num_training_steps · warmup_ratio).
int64_t warmup_steps_from_ratio(int64_t num_training_steps, double warmup_ratio);

double lr_multiplier(LrSchedule schedule, int64_t step, int64_t num_warmup_steps, int64_t num_training_steps);

}  // namespace pagedllm
