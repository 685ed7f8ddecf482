// Admission of generation requests against --max-queued-requests, as one atomic step.
//
// The limit counts sequences (a request with n samples is n sequences) that wait for the engine: those admitted
// and not finished beyond the max_num_seqs the engine runs at once. The count is the server's own, taken and
// updated under one lock: the engine's waiting gauge is a snapshot taken after each step, so 40 requests checked
// against it at once all saw the same stale count and were all admitted.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <mutex>
#include <utility>

namespace pagedllm {

class AdmissionControl;

// Sequences counted as admitted for as long as the ticket lives (moved into the request's GenerationSession).
class AdmissionTicket {
 public:
  AdmissionTicket() = default;
  AdmissionTicket(AdmissionControl* control, int num_sequences) : control_(control), num_sequences_(num_sequences) {}
  AdmissionTicket(AdmissionTicket&& other) noexcept { *this = std::move(other); }
  AdmissionTicket& operator=(AdmissionTicket&& other) noexcept;
  ~AdmissionTicket();

 private:
  AdmissionControl* control_ = nullptr;
  int num_sequences_ = 0;
};

class AdmissionControl {
 public:
  AdmissionControl(int max_num_seqs, int max_queued_sequences);

  // Admits num_sequences unless the sequences already waiting (admitted beyond max_num_seqs) have reached
  // max_queued_sequences: then throws Error(kResourceExhausted), a 503.
  AdmissionTicket admit(int num_sequences);
  int num_admitted() const;

 private:
  friend class AdmissionTicket;
  void release(int num_sequences);

  const int max_num_seqs_;
  const int max_queued_sequences_;
  mutable std::mutex mutex_;
  int num_admitted_ = 0;  // GUARDED_BY(mutex_)
};

}  // namespace pagedllm
