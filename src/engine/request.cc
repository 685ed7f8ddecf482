#include "engine/request.h"

namespace pagedllm {

const char* request_status_name(RequestStatus status) {
  switch (status) {
    case RequestStatus::kWaiting: return "waiting";
    case RequestStatus::kRunning: return "running";
    case RequestStatus::kPreempted: return "preempted";
    case RequestStatus::kFinishedStopped: return "finished_stopped";
    case RequestStatus::kFinishedLengthCapped: return "finished_length_capped";
    case RequestStatus::kFinishedAborted: return "finished_aborted";
  }
  return "unknown";
}

bool is_finished_status(RequestStatus status) {
  return status == RequestStatus::kFinishedStopped || status == RequestStatus::kFinishedLengthCapped ||
         status == RequestStatus::kFinishedAborted;
}

}  // namespace pagedllm
