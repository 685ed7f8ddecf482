// The engine requests behind one HTTP request, and the path of their outputs from the engine thread to the
// handler thread.
//
// An HTTP request becomes one engine request per prompt (a completions request may carry several). Outputs of
// all of them arrive through one OutputQueue. A session that ends before all its requests finished (client gone,
// error, shutdown) aborts the rest, so no work or KV blocks outlive the HTTP request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/engine_client.h"
#include "server/admission.h"

namespace pagedllm {

class ClientConnection;

// FIFO of outputs: the engine thread pushes, one handler thread pops. Shared (shared_ptr) with the engine's
// callbacks, which may run after the session that created it is gone.
class OutputQueue {
 public:
  void push(const RequestOutput& output);
  std::optional<RequestOutput> pop_for(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<RequestOutput> items_;  // GUARDED_BY(mutex_)
};

// Engine request ids of every live session, so that shutdown can wait for them and abort the stragglers.
class ActiveRequests {
 public:
  void add(const std::string& request_id);
  void remove(const std::string& request_id);
  size_t size() const;
  void abort_all(EngineClient& engine) const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string> ids_;  // GUARDED_BY(mutex_)
};

class GenerationSession {
 public:
  // `ticket` keeps the request's sequences counted as admitted until the session ends.
  GenerationSession(EngineClient& engine, ActiveRequests& active, OutputKind kind, AdmissionTicket ticket = {});
  ~GenerationSession();  // aborts the requests that have not finished
  GenerationSession(const GenerationSession&) = delete;
  GenerationSession& operator=(const GenerationSession&) = delete;

  // Submits one prompt (its index is the order of add calls). Throws what EngineClient::add_request throws.
  void add(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
           const std::string& lora_name);

  // The next output of any request, waiting until one arrives or the client disconnects (nullopt; the session
  // then aborts everything). Must not be called once is_finished().
  std::optional<RequestOutput> next(const ClientConnection& client);

  bool is_finished() const { return num_finished_ == request_ids_.size(); }
  // Which prompt (order of add) an output belongs to.
  size_t prompt_index(const std::string& request_id) const;
  void abort_all();

 private:
  EngineClient& engine_;
  ActiveRequests& active_;
  OutputKind kind_;
  std::shared_ptr<OutputQueue> queue_ = std::make_shared<OutputQueue>();
  std::vector<std::string> request_ids_;
  std::set<std::string> finished_ids_;
  size_t num_finished_ = 0;
  AdmissionTicket ticket_;
};

}  // namespace pagedllm
