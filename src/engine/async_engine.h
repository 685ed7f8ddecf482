// AsyncEngine: the EngineClient the server uses. A dedicated thread owns the EngineCore and steps it while there
// is work; add_request/abort_request from HTTP threads are handed over under a mutex and applied between steps.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/engine_client.h"
#include "engine/engine_core.h"

namespace pagedllm {

class AsyncEngine : public EngineClient {
 public:
  explicit AsyncEngine(const EngineArgs& args);
  ~AsyncEngine() override;

  void add_request(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
                   OutputKind kind, const std::string& lora_name,
                   std::function<void(const RequestOutput&)> on_output) override;
  void abort_request(const std::string& request_id) override;
  EngineStats stats() const override;
  const Tokenizer& tokenizer() const override { return core_->tokenizer(); }
  int max_model_len() const override { return core_->max_model_len(); }
  std::vector<std::string> lora_names() const override { return core_->lora_names(); }
  bool is_alive() const override { return alive_.load(); }

  // The engine itself, for facts fixed when it was built (model, weights, KV pool size) — not for stepping it.
  const EngineCore& core() const { return *core_; }

  // Stops the loop after the current step; pending requests are aborted.
  void shutdown();

 private:
  void loop();

  std::unique_ptr<EngineCore> core_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<std::function<void()>> commands_;  // guarded by mutex_
  EngineStats stats_;                           // snapshot after each step, guarded by mutex_
  bool stopping_ = false;                       // guarded by mutex_
  std::atomic<bool> alive_{true};
  std::thread thread_;
};

}  // namespace pagedllm
