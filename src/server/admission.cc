#include "server/admission.h"

#include <algorithm>
#include <utility>

#include "util/error.h"

namespace pagedllm {

AdmissionTicket& AdmissionTicket::operator=(AdmissionTicket&& other) noexcept {
  if (this != &other) {
    if (control_ != nullptr) control_->release(num_sequences_);
    control_ = std::exchange(other.control_, nullptr);
    num_sequences_ = std::exchange(other.num_sequences_, 0);
  }
  return *this;
}

AdmissionTicket::~AdmissionTicket() {
  if (control_ != nullptr) control_->release(num_sequences_);
}

AdmissionControl::AdmissionControl(int max_num_seqs, int max_queued_sequences)
    : max_num_seqs_(std::max(1, max_num_seqs)), max_queued_sequences_(max_queued_sequences) {}

AdmissionTicket AdmissionControl::admit(int num_sequences) {
  std::lock_guard<std::mutex> lock(mutex_);
  int num_waiting = std::max(0, num_admitted_ - max_num_seqs_);
  if (num_waiting >= max_queued_sequences_) {
    throw_error(ErrorKind::kResourceExhausted,
                "The waiting queue is full ({} sequences waiting, --max-queued-requests {}); retry later",
                num_waiting, max_queued_sequences_);
  }
  num_admitted_ += num_sequences;
  return AdmissionTicket(this, num_sequences);
}

int AdmissionControl::num_admitted() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return num_admitted_;
}

void AdmissionControl::release(int num_sequences) {
  std::lock_guard<std::mutex> lock(mutex_);
  num_admitted_ -= num_sequences;
}

}  // namespace pagedllm
