#include "train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace pagedllm {
namespace {

std::string format_duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

}  // namespace

ProgressBar::ProgressBar(int64_t first_step, int64_t num_steps)
    : first_step_(first_step), num_steps_(num_steps), start_(std::chrono::steady_clock::now()),
      is_tty_(::isatty(STDERR_FILENO) != 0) {}

double ProgressBar::tokens_per_second() const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed > 0 ? static_cast<double>(num_tokens_) / elapsed : 0.0;
}

void ProgressBar::update(int64_t step, double loss, double lr, int64_t num_tokens, bool is_enabled) {
  num_tokens_ += num_tokens;
  if (!is_enabled) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = step - first_step_;
  const double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(num_steps_ - step) : 0.0;
  const int width = 20;
  const int filled = num_steps_ > 0 ? static_cast<int>(width * step / num_steps_) : width;
  const std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  const std::string line =
      fmt::format("[{}] step {}/{} loss {:.4f} lr {:.3e} {:.0f} tok/s ETA {} RSS {:.1f} MiB", bar, step, num_steps_,
                  loss, lr, tokens_per_second(), format_duration(eta), resident_bytes() / 1048576.0);
  std::fprintf(stderr, is_tty_ ? "\r%s\x1b[K" : "%s\n", line.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish(bool is_enabled) const {
  if (is_enabled && is_tty_) std::fputc('\n', stderr);
}

}  // namespace pagedllm
