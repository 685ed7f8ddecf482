// Training progress on stderr (step, loss, learning rate, tokens/s, ETA, resident memory).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "util/process_memory.h"

namespace pagedllm {

class ProgressBar {
 public:
  // first_step: steps already done (a resumed run) — they do not count towards tokens/s and the ETA.
  ProgressBar(int64_t first_step, int64_t num_steps);

  // Records one finished step and, when enabled, redraws the line (on a terminal) or prints it (otherwise).
  void update(int64_t step, double loss, double lr, int64_t num_tokens, bool is_enabled);
  // Ends the line on a terminal.
  void finish(bool is_enabled) const;

  double tokens_per_second() const;

 private:
  int64_t first_step_;
  int64_t num_steps_;
  int64_t num_tokens_ = 0;
  std::chrono::steady_clock::time_point start_;
  bool is_tty_;
};

}  // namespace pagedllm
