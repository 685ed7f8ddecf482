// Randomized end-to-end runs of Scheduler + KVCacheManager against a fake model that records which token id
// each KV slot holds. Every step checks the scheduler's limits, the cache invariants, and that every scheduled
// request's whole history is intact in the slots its block table names (catches aliasing, a missed or wrong
// copy-on-write, a bad prefix-cache hit). Outputs are a deterministic function of each request's own tokens, so
// preemption and recompute must leave them unchanged; at the end every block is back in the pool.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/scheduler.h"
#include "util/rng.h"

namespace pagedllm {
namespace {

constexpr int32_t kEos = 0;
constexpr int32_t kVocab = 48;

struct SimulationParams {
  int num_blocks;
  int block_size;
  int max_num_seqs;
  int max_num_batched_tokens;
  int max_model_len;
  bool enable_chunked_prefill;
  bool enable_prefix_caching;
  int long_prefill_token_threshold;
};

void PrintTo(const SimulationParams& p, std::ostream* os) {
  *os << "blocks=" << p.num_blocks << " block_size=" << p.block_size << " seqs=" << p.max_num_seqs
      << " budget=" << p.max_num_batched_tokens << " len=" << p.max_model_len << " chunked=" << p.enable_chunked_prefill
      << " prefix=" << p.enable_prefix_caching << " threshold=" << p.long_prefill_token_threshold;
}

int random_int(Rng& rng, int lo, int hi) {  // inclusive
  return lo + static_cast<int>(rng.next_u64() % static_cast<uint64_t>(hi - lo + 1));
}

// The "model": next token from the request's salt (its sampling seed), last token and length only.
int32_t next_token(uint64_t salt, const TokenSequence& tokens) {
  Rng mix(salt ^ (static_cast<uint64_t>(tokens[tokens.size() - 1]) << 20) ^ static_cast<uint64_t>(tokens.size()));
  return static_cast<int32_t>(mix.next_u64() % kVocab);
}

// KV contents per slot: what the model would have written for (token, adapter); -1 = never written.
class FakeKVCache {
 public:
  FakeKVCache(int num_blocks, int block_size) : block_size_(block_size), slots_(num_blocks * block_size, -1) {}

  // Writes what the model would from the scheduler output alone (its token ids and adapter), then checks every
  // computed position of each scheduled request against the request's real tokens.
  void run(const SchedulerOutput& output, const std::map<std::string, std::shared_ptr<Request>>& requests) {
    for (const auto& [src, dst] : output.blocks_to_copy) {
      std::copy_n(slots_.begin() + src * block_size_, block_size_, slots_.begin() + dst * block_size_);
    }
    for (const ScheduledRequest& s : output.scheduled) {
      ASSERT_EQ(static_cast<int>(s.token_ids.size()), s.num_new_tokens) << s.request_id;
      for (int i = 0; i < s.num_new_tokens; ++i) {
        slots_[slot(s.block_table, s.num_computed_tokens + i)] = kv_value(s.lora_id, s.token_ids[i]);
      }
    }
    for (const ScheduledRequest& s : output.scheduled) {
      const Request& request = *requests.at(s.request_id);
      ASSERT_EQ(s.lora_id, request.lora_id);
      const TokenSequence tokens = request.tokens();
      for (int p = 0; p < s.num_computed_tokens + s.num_new_tokens; ++p) {
        ASSERT_EQ(slots_[slot(s.block_table, p)], kv_value(request.lora_id, tokens[p]))
            << "request " << s.request_id << " position " << p;
      }
    }
  }

 private:
  // Keys and values depend on the adapter too, so a prefix-cache hit across adapters shows up as wrong contents.
  static int32_t kv_value(int lora_id, int32_t token) { return token + 1000 * lora_id; }
  int slot(const std::vector<int>& table, int position) const {
    return table.at(position / block_size_) * block_size_ + position % block_size_;
  }
  int block_size_;
  std::vector<int32_t> slots_;
};

struct Counters {
  int num_finished = 0;
  int num_aborted = 0;
  int num_forks = 0;
  int num_copies = 0;
  int num_chunks = 0;
};

class Simulation {
 public:
  Simulation(const SimulationParams& params, uint64_t seed)
      : params_(params),
        rng_(seed),
        kv_(params.num_blocks, params.block_size, params.enable_prefix_caching),
        scheduler_(make_config(params), kv_),
        fake_kv_(params.num_blocks, params.block_size) {
    for (int k = 0; k < 3; ++k) {
      std::vector<int32_t> prefix(random_int(rng_, 1, params.max_model_len / 2));
      for (int32_t& t : prefix) t = random_int(rng_, 1, kVocab - 1);
      shared_prefixes_.push_back(prefix);
    }
  }

  void run(int num_requests) {
    int num_added = 0;
    for (int step = 0; num_added < num_requests || scheduler_.has_unfinished_requests(); ++step) {
      ASSERT_LT(step, 100000) << "no progress";
      while (num_added < num_requests && rng_.uniform() < 0.4) add_request(num_added++);
      if (!live_.empty() && rng_.uniform() < 0.03) abort_random_request();
      if (!scheduler_.has_unfinished_requests()) continue;
      run_step();
      if (::testing::Test::HasFatalFailure()) return;
    }
    EXPECT_EQ(counters_.num_finished, num_requests + counters_.num_forks);
    EXPECT_EQ(kv_.num_requests(), 0);
    kv_.reset_prefix_cache();
    kv_.check_invariants();
    EXPECT_EQ(kv_.num_free_blocks(), params_.num_blocks);
    EXPECT_EQ(kv_.block_pool().num_cached_blocks(), 0);
  }

  const Counters& counters() const { return counters_; }
  const Scheduler& scheduler() const { return scheduler_; }
  const KVCacheManager& kv() const { return kv_; }

 private:
  static SchedulerConfig make_config(const SimulationParams& p) {
    SchedulerConfig config;
    config.max_num_seqs = p.max_num_seqs;
    config.max_num_batched_tokens = p.max_num_batched_tokens;
    config.max_model_len = p.max_model_len;
    config.enable_chunked_prefill = p.enable_chunked_prefill;
    config.block_size = p.block_size;
    config.enable_prefix_caching = p.enable_prefix_caching;
    config.long_prefill_token_threshold = p.long_prefill_token_threshold;
    return config;
  }

  void add_request(int index) {
    auto request = std::make_shared<Request>();
    request->request_id = "r" + std::to_string(index);
    const int prompt_len = random_int(rng_, 1, params_.max_model_len - 1);
    if (rng_.uniform() < 0.5) {
      const auto& prefix = shared_prefixes_[random_int(rng_, 0, 2)];
      request->prompt_token_ids.assign(prefix.begin(), prefix.begin() + std::min<size_t>(prefix.size(), prompt_len));
    }
    while (request->num_prompt_tokens() < prompt_len) request->prompt_token_ids.push_back(random_int(rng_, 1, kVocab - 1));
    request->max_tokens = random_int(rng_, 1, std::min(12, params_.max_model_len - prompt_len));
    request->lora_id = rng_.uniform() < 0.2 ? 1 : 0;
    track(request, rng_.next_u64());
    scheduler_.add_request(request);
  }

  void track(const std::shared_ptr<Request>& request, uint64_t salt) {
    live_.push_back(request);
    requests_[request->request_id] = request;
    salts_[request->request_id] = salt;
  }

  void abort_random_request() {
    const std::shared_ptr<Request> victim = live_[random_int(rng_, 0, static_cast<int>(live_.size()) - 1)];
    scheduler_.finish_requests({victim->request_id}, RequestStatus::kFinishedAborted);
    ++counters_.num_aborted;
    retire(victim);
  }

  void retire(const std::shared_ptr<Request>& request) {
    ASSERT_TRUE(request->is_finished());
    check_output(*request);
    std::erase(live_, request);
    ++counters_.num_finished;
  }

  // Every output token is the model's choice given the tokens before it (a forked child's first token is its own).
  void check_output(const Request& request) {
    const uint64_t salt = salts_.at(request.request_id);
    const int first_checked = forked_.contains(request.request_id) ? 1 : 0;
    for (int i = first_checked; i < request.num_output_tokens(); ++i) {
      const std::span<const int32_t> before(request.output_token_ids.data(), i);
      ASSERT_EQ(request.output_token_ids[i], next_token(salt, TokenSequence{request.prompt_token_ids, before}))
          << request.request_id << " output " << i;
    }
  }

  void check_step_limits(const SchedulerOutput& output) {
    ASSERT_FALSE(output.scheduled.empty());
    ASSERT_LE(static_cast<int>(output.scheduled.size()), params_.max_num_seqs);
    ASSERT_LE(output.total_num_scheduled_tokens, params_.max_num_batched_tokens);
    int total = 0;
    std::set<std::string> ids;
    for (const ScheduledRequest& s : output.scheduled) {
      const Request& r = *requests_.at(s.request_id);
      ASSERT_TRUE(ids.insert(r.request_id).second) << "scheduled twice: " << r.request_id;
      ASSERT_EQ(r.status, RequestStatus::kRunning);
      ASSERT_GE(s.num_new_tokens, 1);
      ASSERT_LE(s.num_computed_tokens + s.num_new_tokens, r.num_tokens());
      ASSERT_GE(static_cast<int>(s.block_table.size()) * params_.block_size, s.num_computed_tokens + s.num_new_tokens);
      if (params_.long_prefill_token_threshold > 0) {
        ASSERT_LE(s.num_new_tokens, params_.long_prefill_token_threshold);
      }
      if (!params_.enable_chunked_prefill) {
        ASSERT_FALSE(s.is_prefill_chunk);
      }
      total += s.num_new_tokens;
    }
    ASSERT_EQ(total, output.total_num_scheduled_tokens);
    for (const std::string& id : output.preempted_request_ids) ASSERT_FALSE(ids.contains(id));
  }

  void run_step() {
    const SchedulerOutput output = scheduler_.schedule();
    check_step_limits(output);
    if (::testing::Test::HasFatalFailure()) return;
    fake_kv_.run(output, requests_);
    if (::testing::Test::HasFatalFailure()) return;
    counters_.num_copies += static_cast<int>(output.blocks_to_copy.size());
    std::map<std::string, std::vector<int32_t>> sampled;
    for (const ScheduledRequest& s : output.scheduled) {
      if (s.is_prefill_chunk) {
        ++counters_.num_chunks;
        continue;
      }
      sampled[s.request_id] = {next_token(salts_.at(s.request_id), requests_.at(s.request_id)->tokens())};
    }
    scheduler_.update_from_output(output, sampled);
    kv_.check_invariants();
    for (const ScheduledRequest& s : output.scheduled) {
      if (!s.is_prefill_chunk) after_sample(requests_.at(s.request_id));
    }
  }

  // The engine's part: fork some requests after their first token, then apply the stop rules.
  void after_sample(const std::shared_ptr<Request>& request) {
    const int32_t last = request->output_token_ids.back();
    const bool is_done = last == kEos || request->num_output_tokens() >= request->max_tokens;
    if (!is_done && request->num_output_tokens() == 1 && !forked_.contains(request->request_id) &&
        rng_.uniform() < 0.3) {
      for (int k = random_int(rng_, 1, 3); k > 0; --k) fork(request);
    }
    if (is_done) {
      scheduler_.finish_requests({request->request_id},
                                 last == kEos ? RequestStatus::kFinishedStopped : RequestStatus::kFinishedLengthCapped);
      retire(request);
    }
  }

  void fork(const std::shared_ptr<Request>& parent) {
    auto child = std::make_shared<Request>();
    child->request_id = parent->request_id + "." + std::to_string(counters_.num_forks);
    child->prompt_token_ids = parent->prompt_token_ids;
    child->output_token_ids = {static_cast<int32_t>(random_int(rng_, 1, kVocab - 1))};
    child->max_tokens = parent->max_tokens;
    child->lora_id = parent->lora_id;
    forked_.insert(child->request_id);
    track(child, rng_.next_u64());
    scheduler_.fork_request(parent->request_id, child);
    ++counters_.num_forks;
  }

  SimulationParams params_;
  Rng rng_;
  KVCacheManager kv_;
  Scheduler scheduler_;
  FakeKVCache fake_kv_;
  std::vector<std::vector<int32_t>> shared_prefixes_;
  std::vector<std::shared_ptr<Request>> live_;
  std::map<std::string, std::shared_ptr<Request>> requests_;  // every request ever added, by id
  std::map<std::string, uint64_t> salts_;
  std::set<std::string> forked_;
  Counters counters_;
};

class SchedulerSimulation : public ::testing::TestWithParam<SimulationParams> {};

TEST_P(SchedulerSimulation, RandomWorkloadKeepsInvariantsOutputsAndReturnsAllBlocks) {
  Counters total;
  uint64_t num_preemptions = 0;
  uint64_t num_hit_tokens = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    Simulation simulation(GetParam(), seed);
    simulation.run(150);
    if (::testing::Test::HasFatalFailure()) return;
    num_preemptions += simulation.scheduler().num_preemptions_total();
    num_hit_tokens += simulation.kv().prefix_cache_stats().num_hit_tokens;
    total.num_aborted += simulation.counters().num_aborted;
    total.num_forks += simulation.counters().num_forks;
    total.num_copies += simulation.counters().num_copies;
    total.num_chunks += simulation.counters().num_chunks;
  }
  // The workloads must exercise what they are meant to test.
  EXPECT_GT(num_preemptions, 0u);
  EXPECT_GT(total.num_aborted, 0);
  EXPECT_GT(total.num_forks, 0);
  if (GetParam().block_size > 1) {
    EXPECT_GT(total.num_copies, 0);  // with one-token blocks no block is ever partially filled
  }
  if (GetParam().enable_chunked_prefill) {
    EXPECT_GT(total.num_chunks, 0);
  }
  if (GetParam().enable_prefix_caching) {
    EXPECT_GT(num_hit_tokens, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    SmallCaches, SchedulerSimulation,
    ::testing::Values(
        //                blocks bs seqs budget len  chunked prefix threshold
        SimulationParams{12, 4, 8, 16, 48, true, true, 0},
        SimulationParams{10, 2, 4, 8, 20, true, false, 3},
        SimulationParams{16, 4, 6, 48, 48, false, true, 0},
        SimulationParams{6, 8, 16, 24, 48, true, true, 0},
        SimulationParams{40, 1, 3, 5, 40, true, true, 2}));

}  // namespace
}  // namespace pagedllm
