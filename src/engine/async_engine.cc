#include "engine/async_engine.h"

#include <cstdio>
#include <future>

#include "util/error.h"

namespace pagedllm {

AsyncEngine::AsyncEngine(const EngineArgs& args) : core_(std::make_unique<EngineCore>(args)) {
  stats_ = core_->stats();
  thread_ = std::thread([this] { loop(); });
}

AsyncEngine::~AsyncEngine() { shutdown(); }

void AsyncEngine::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AsyncEngine::add_request(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
                              OutputKind kind, const std::string& lora_name,
                              std::function<void(const RequestOutput&)> on_output) {
  // Validation errors must reach the caller, so the request is added on the engine thread and the outcome
  // (an exception or success) is handed back through a promise.
  // A constraint compiles here, on the caller's thread (a 100-property schema takes a while), and its errors
  // reach the caller directly; the engine thread only looks the compiled automaton up.
  SamplingParams compiled_params = params;
  if (compiled_params.structured_outputs && !compiled_params.structured_outputs->compiled) {
    compiled_params.structured_outputs->compiled = core_->structured_outputs().compile(*compiled_params.structured_outputs);
  }
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> result = done->get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw_error(ErrorKind::kResourceExhausted, "the engine is shutting down");
    commands_.push_back([=, this, on_output = std::move(on_output)]() mutable {
      try {
        core_->add_request(request_id, prompt, compiled_params, kind, lora_name, std::move(on_output));
        done->set_value();
      } catch (...) {
        done->set_exception(std::current_exception());
      }
    });
  }
  work_.notify_all();
  result.get();
}

void AsyncEngine::abort_request(const std::string& request_id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    commands_.push_back([this, request_id] { core_->abort_request(request_id); });
  }
  work_.notify_all();
}

EngineStats AsyncEngine::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void AsyncEngine::loop() {
  for (;;) {
    std::deque<std::function<void()>> commands;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_.wait(lock, [&] { return stopping_ || !commands_.empty() || core_->has_unfinished_requests(); });
      if (stopping_ && commands_.empty()) break;
      commands.swap(commands_);
    }
    for (auto& command : commands) command();
    if (core_->has_unfinished_requests()) {
      try {
        core_->step();
      } catch (const std::exception& e) {
        // A failing step must not take the server down silently: stop and report dead on /health.
        std::fprintf(stderr, "pagedllm: engine step failed: %s\n", e.what());
        alive_ = false;
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    stats_ = core_->stats();
    if (!alive_) break;
  }
  // Whoever still waits on a request gets its final, aborted output.
  core_->abort_all();
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = true;
}

}  // namespace pagedllm
