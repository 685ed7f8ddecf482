// A deterministic EngineClient for the server's tests (header only, so it stays out of pagedllm_server).
//
// Each request runs on the fake's own "engine thread" like the real AsyncEngine: one token per sequence per step.
// Sequence s of a request generates, at step k, token fake_token(prompt, k, s) (word pieces of the stories260K
// vocabulary), so tests can compute the exact expected text. Stops: max_tokens ("length") and stop_token_ids
// ("stop", stop_reason = the id, included in the output). Logprobs: the sampled token has rank 1 and logprob
// -0.25; alternative r (rank r+1) is token+r with logprob -1.0 - r.
// set_scripted_text(pieces) replaces the text: step k yields pieces[k] (the token ids stay as above), and a
// sequence stops ("stop") after the last piece, so tests can make the "model" write e.g. a <tool_call> block.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "engine/engine_client.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace pagedllm {

class FakeEngineClient : public EngineClient {
 public:
  static constexpr int kMaxModelLen = 512;

  FakeEngineClient() : tokenizer_(Tokenizer::from_path(PAGEDLLM_SOURCE_DIR "/models/stories260K")) {
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeEngineClient() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      is_stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  static int32_t fake_token(const std::vector<int32_t>& prompt, int step, int sequence, uint64_t seed) {
    int64_t sum = 0;
    for (int32_t id : prompt) sum += id;
    return static_cast<int32_t>(259 + (sum + 31 * step + 7 * sequence + static_cast<int64_t>(seed % 97)) % 250);
  }
  std::vector<int32_t> expected_tokens(const std::vector<int32_t>& prompt, int num_tokens, int sequence,
                                       uint64_t seed = 0) const {
    std::vector<int32_t> ids;
    for (int k = 0; k < num_tokens; ++k) ids.push_back(fake_token(prompt, k, sequence, seed));
    return ids;
  }
  std::string decode(const std::vector<int32_t>& ids) const { return tokenizer_->decode(ids, true); }

  // Test controls.
  void set_paused(bool is_paused) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      is_paused_ = is_paused;
    }
    wake_.notify_all();
  }
  void set_num_waiting(int num_waiting) { num_waiting_ = num_waiting; }
  void set_alive(bool is_alive) { is_alive_ = is_alive; }
  void set_step_delay(std::chrono::milliseconds delay) { step_delay_ = delay; }
  void set_scripted_text(std::vector<std::string> pieces) {
    std::lock_guard<std::mutex> lock(mutex_);
    scripted_pieces_ = std::move(pieces);
  }
  std::set<std::string> aborted_ids() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return aborted_;
  }
  std::vector<std::pair<std::string, SamplingParams>> submitted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return submitted_;
  }
  int num_running() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(requests_.size());
  }

  void add_request(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
                   OutputKind kind, const std::string& lora_name,
                   std::function<void(const RequestOutput&)> on_output) override {
    PAGEDLLM_CHECK(!prompt.token_ids.empty());
    if (static_cast<int>(prompt.token_ids.size()) + params.max_tokens > kMaxModelLen) {
      throw Error(ErrorKind::kInvalidArgument, "fake engine: prompt does not fit");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    Running& r = requests_[request_id];
    r.prompt = prompt;
    r.params = params;
    r.kind = kind;
    r.on_output = std::move(on_output);
    r.sequences.resize(params.n);
    submitted_.emplace_back(request_id, params);
    prompt_tokens_total_ += prompt.token_ids.size();
    wake_.notify_all();
  }

  void abort_request(const std::string& request_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = requests_.find(request_id);
    if (it == requests_.end()) return;
    it->second.is_aborted = true;
    aborted_.insert(request_id);
    wake_.notify_all();
  }

  EngineStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    EngineStats s;
    s.num_requests_running = static_cast<int>(requests_.size());
    s.num_requests_waiting = num_waiting_;
    s.kv_cache_usage = 0.01 * static_cast<double>(requests_.size());
    s.prompt_tokens_total = prompt_tokens_total_;
    s.generation_tokens_total = generation_tokens_total_;
    s.request_success_total = success_;
    s.time_to_first_token_seconds = {{0.001, 0.01}, {1, 2}, 3, 0.5};
    return s;
  }
  const Tokenizer& tokenizer() const override { return *tokenizer_; }
  int max_model_len() const override { return kMaxModelLen; }
  std::vector<std::string> lora_names() const override { return {"my-lora"}; }
  bool is_alive() const override { return is_alive_; }

 private:
  struct Sequence {
    std::vector<int32_t> ids;
    size_t num_sent_ids = 0;
    std::string sent_text;
    std::optional<FinishReason> finish_reason;
    std::variant<std::monostate, std::string, int32_t> stop_reason;
  };
  struct Running {
    PromptInput prompt;
    SamplingParams params;
    OutputKind kind = OutputKind::kFinalOnly;
    std::function<void(const RequestOutput&)> on_output;
    std::vector<Sequence> sequences;
    bool is_aborted = false;
  };

  Logprob logprob_of(int32_t id, int rank, float logprob) const {
    return {logprob, rank, tokenizer_->decode(std::vector<int32_t>{id}, false)};
  }

  // One step of one request: a token per unfinished sequence; returns the output to deliver, if any.
  std::optional<RequestOutput> step(const std::string& id, Running& r) {
    RequestOutput out{id, r.prompt.text, r.prompt.token_ids, {}, false};
    bool is_finished = true;
    for (int s = 0; s < static_cast<int>(r.sequences.size()); ++s) {
      Sequence& seq = r.sequences[s];
      if (!seq.finish_reason) {
        if (r.is_aborted) {
          seq.finish_reason = FinishReason::kAbort;
        } else {
          int32_t token = fake_token(r.prompt.token_ids, static_cast<int>(seq.ids.size()), s,
                                     r.params.seed.value_or(0));
          seq.ids.push_back(token);
          ++generation_tokens_total_;
          const auto& stops = r.params.stop_token_ids;
          if (std::find(stops.begin(), stops.end(), token) != stops.end()) {
            seq.finish_reason = FinishReason::kStop;
            seq.stop_reason = token;
          } else if (!scripted_pieces_.empty() && seq.ids.size() >= scripted_pieces_.size()) {
            seq.finish_reason = FinishReason::kStop;
          } else if (static_cast<int>(seq.ids.size()) >= r.params.max_tokens) {
            seq.finish_reason = FinishReason::kLength;
          }
        }
      }
      is_finished = is_finished && seq.finish_reason.has_value();
      out.outputs.push_back(completion_of(r, s, seq));
    }
    out.finished = is_finished;
    if (is_finished) {
      for (const Sequence& seq : r.sequences) ++success_[finish_reason_name(*seq.finish_reason)];
    }
    if (r.kind == OutputKind::kFinalOnly && !is_finished) return std::nullopt;
    return out;
  }

  CompletionOutput completion_of(const Running& r, int s, Sequence& seq) const {
    std::string text;
    if (scripted_pieces_.empty()) text = tokenizer_->decode(seq.ids, r.params.skip_special_tokens);
    for (size_t k = 0; k < seq.ids.size() && k < scripted_pieces_.size(); ++k) text += scripted_pieces_[k];
    bool is_delta = r.kind == OutputKind::kDelta;
    size_t first = is_delta ? seq.num_sent_ids : 0;
    CompletionOutput c;
    c.index = s;
    c.text = is_delta ? text.substr(std::min(seq.sent_text.size(), text.size())) : text;
    c.token_ids.assign(seq.ids.begin() + static_cast<std::ptrdiff_t>(first), seq.ids.end());
    c.finish_reason = seq.finish_reason;
    c.stop_reason = seq.stop_reason;
    if (r.params.logprobs) {
      SampleLogprobs logprobs;
      for (int32_t id : c.token_ids) {
        std::map<int32_t, Logprob> entry{{id, logprob_of(id, 1, -0.25f)}};
        for (int rank = 2; rank <= *r.params.logprobs; ++rank) {
          entry[id + rank - 1] = logprob_of(id + rank - 1, rank, -1.0f - static_cast<float>(rank - 1));
        }
        logprobs.push_back(std::move(entry));
      }
      c.logprobs = std::move(logprobs);
    }
    if (r.kind != OutputKind::kFinalOnly) {
      seq.num_sent_ids = seq.ids.size();
      seq.sent_text = text;
    }
    return c;
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return is_stopping_ || (!requests_.empty() && !is_paused_) || has_aborts(); });
      if (is_stopping_) return;
      std::vector<std::pair<std::function<void(const RequestOutput&)>, RequestOutput>> deliveries;
      for (auto it = requests_.begin(); it != requests_.end();) {
        if (is_paused_ && !it->second.is_aborted) {
          ++it;
          continue;
        }
        std::optional<RequestOutput> out = step(it->first, it->second);
        if (out) deliveries.emplace_back(it->second.on_output, *out);
        it = (out && out->finished) ? requests_.erase(it) : std::next(it);
      }
      lock.unlock();
      for (auto& [callback, out] : deliveries) callback(out);
      std::this_thread::sleep_for(step_delay_.load());
      lock.lock();
    }
  }
  bool has_aborts() const {
    for (const auto& [id, r] : requests_) {
      if (r.is_aborted) return true;
    }
    return false;
  }

  std::unique_ptr<Tokenizer> tokenizer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Running> requests_;
  std::set<std::string> aborted_;
  std::vector<std::pair<std::string, SamplingParams>> submitted_;
  std::vector<std::string> scripted_pieces_;
  std::map<std::string, uint64_t> success_;
  uint64_t prompt_tokens_total_ = 0;
  uint64_t generation_tokens_total_ = 0;
  bool is_paused_ = false;
  bool is_stopping_ = false;
  std::atomic<int> num_waiting_{0};
  std::atomic<bool> is_alive_{true};
  std::atomic<std::chrono::milliseconds> step_delay_{std::chrono::milliseconds(1)};
  std::thread thread_;
};

}  // namespace pagedllm
