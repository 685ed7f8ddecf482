#include "server/generation_session.h"

#include <algorithm>

#include "server/client_connection.h"
#include "util/error.h"

namespace pagedllm {

// How often a waiting handler checks whether its client is still there.
constexpr std::chrono::milliseconds kDisconnectPollInterval(20);

void OutputQueue::push(const RequestOutput& output) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    items_.push_back(output);
  }
  ready_.notify_one();
}

std::optional<RequestOutput> OutputQueue::pop_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [this] { return !items_.empty(); })) return std::nullopt;
  RequestOutput output = std::move(items_.front());
  items_.pop_front();
  return output;
}

void ActiveRequests::add(const std::string& request_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  ids_.insert(request_id);
}

void ActiveRequests::remove(const std::string& request_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  ids_.erase(request_id);
}

size_t ActiveRequests::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ids_.size();
}

void ActiveRequests::abort_all(EngineClient& engine) const {
  std::set<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ids = ids_;
  }
  for (const std::string& id : ids) engine.abort_request(id);
}

GenerationSession::GenerationSession(EngineClient& engine, ActiveRequests& active, OutputKind kind,
                                     AdmissionTicket ticket)
    : engine_(engine), active_(active), kind_(kind), ticket_(std::move(ticket)) {}

GenerationSession::~GenerationSession() {
  abort_all();
  for (const std::string& id : request_ids_) active_.remove(id);
}

void GenerationSession::add(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
                            const std::string& lora_name) {
  std::shared_ptr<OutputQueue> queue = queue_;
  engine_.add_request(request_id, prompt, params, kind_, lora_name,
                      [queue](const RequestOutput& output) { queue->push(output); });
  request_ids_.push_back(request_id);
  active_.add(request_id);
}

std::optional<RequestOutput> GenerationSession::next(const ClientConnection& client) {
  PAGEDLLM_CHECK(!is_finished());
  for (;;) {
    if (client.is_closed()) {
      abort_all();
      return std::nullopt;
    }
    std::optional<RequestOutput> output = queue_->pop_for(kDisconnectPollInterval);
    if (!output) continue;
    if (output->finished && finished_ids_.insert(output->request_id).second) {
      ++num_finished_;
      active_.remove(output->request_id);
    }
    return output;
  }
}

size_t GenerationSession::prompt_index(const std::string& request_id) const {
  auto it = std::find(request_ids_.begin(), request_ids_.end(), request_id);
  PAGEDLLM_CHECK_MSG(it != request_ids_.end(), "output for unknown request {}", request_id);
  return static_cast<size_t>(it - request_ids_.begin());
}

void GenerationSession::abort_all() {
  for (const std::string& id : request_ids_) {
    if (finished_ids_.count(id) == 0) engine_.abort_request(id);
  }
}

}  // namespace pagedllm
