#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace pagedllm {

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "constant") return LrSchedule::kConstant;
  if (name == "constant_with_warmup") return LrSchedule::kConstantWithWarmup;
  if (name == "linear") return LrSchedule::kLinear;
  if (name == "cosine") return LrSchedule::kCosine;
  throw_error(ErrorKind::kInvalidArgument,
              "--lr-scheduler: unknown schedule '{}' (expected constant, constant_with_warmup, linear or cosine)",
              name);
}

int64_t warmup_steps_from_ratio(int64_t num_training_steps, double warmup_ratio) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(num_training_steps) * warmup_ratio));
}

double lr_multiplier(LrSchedule schedule, int64_t step, int64_t num_warmup_steps, int64_t num_training_steps) {
  if (schedule == LrSchedule::kConstant) return 1.0;
  if (step < num_warmup_steps) {
    return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, num_warmup_steps));
  }
  const double decay_steps = static_cast<double>(std::max<int64_t>(1, num_training_steps - num_warmup_steps));
  const double progress = static_cast<double>(step - num_warmup_steps) / decay_steps;
  switch (schedule) {
    case LrSchedule::kConstantWithWarmup:
      return 1.0;
    case LrSchedule::kLinear:
      return std::max(0.0, static_cast<double>(num_training_steps - step) / decay_steps);
    case LrSchedule::kCosine:
      return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * 0.5 * 2.0 * progress)));
    case LrSchedule::kConstant:
      break;
  }
  return 1.0;
}

}  // namespace pagedllm
