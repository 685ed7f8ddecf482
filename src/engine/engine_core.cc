#include "engine/engine_core.h"

#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "engine/adapter_base.h"
#include "engine/kv_cache_sizing.h"
#include "engine/tensor_parallel_worker.h"
#include "kernels/compute_dtype.h"
#include "sampling/sampler.h"
#include "util/error.h"
#include "util/json_limits.h"
#include "util/thread_pool.h"

namespace pagedllm {

// One sample of a request as the sampling side sees it: its scheduler request, generator and constraint state.
// What the caller sees of it (text, logprobs, finish reason) is the OutputProcessor's.
struct SequenceState {
  std::shared_ptr<Request> request;
  RequestGroup* group = nullptr;
  int index = 0;
  Rng rng;
  std::unique_ptr<ConstraintMatcher> matcher;  // structured outputs: this sample's position in the constraint
};

// A user request: one sequence until its first sample, then n sharing the prompt's blocks.
struct RequestGroup {
  std::string request_id;
  std::vector<int32_t> prompt_token_ids;
  SamplingParams params;
  std::shared_ptr<CompiledConstraint> constraint;  // structured outputs, shared by the n samples
  int lora_slot = 0;
  std::vector<std::unique_ptr<SequenceState>> sequences;
  bool forked = false;
};

namespace {

std::string internal_id(const std::string& request_id, int index) {
  return index == 0 ? request_id : request_id + "#" + std::to_string(index);
}

// Each sample of a seeded request draws from its own generator, derived from the seed and its index only.
uint64_t sample_seed(uint64_t seed, int index) { return seed ^ (0x9e3779b97f4a7c15ULL * uint64_t(index + 1)); }

std::vector<int32_t> read_generation_eos(const std::string& model_dir) {
  std::vector<int32_t> ids;
  const std::string path = model_dir + "/generation_config.json";
  if (!file_exists(path)) return ids;
  const std::string text = read_text_file(path);
  if (std::optional<std::string> problem = find_json_text_problem(text)) {
    throw_error(ErrorKind::kCorrupt, "{}: not acceptable JSON: {}", path, *problem);
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("eos_token_id")) return ids;
  const auto& e = j["eos_token_id"];
  if (e.is_number_integer()) ids.push_back(e.get<int32_t>());
  if (e.is_array()) {
    for (auto& v : e) {
      if (v.is_number_integer()) ids.push_back(v.get<int32_t>());
    }
  }
  return ids;
}

}  // namespace

EngineCore::EngineCore(const EngineArgs& engine_args) : args_(engine_args), seed_rng_(engine_args.seed) {
  validate_engine_args(args_);
  for (const std::string& note : match_base_to_adapters(args_)) std::cerr << note << "\n";
  const EngineArgs& args = args_;
  if (args.num_threads > 0) set_num_threads(args.num_threads);
  // --dtype float32 asks for fp32 arithmetic too: quantized layers' many-row products then skip the bf16 GEMM.
  if (args.dtype == "float32") set_matmul_compute(ComputeDType::kF32);
  tokenizer_ = Tokenizer::from_path(args.tokenizer.empty() ? args.model : args.tokenizer);

  model_ = std::make_unique<LlamaModel>(load_model_weights(args.model, weight_load_options(args)));
  const ModelConfig& config = model_->config();

  max_model_len_ = args.max_model_len > 0 ? args.max_model_len : config.max_position_embeddings;
  if (max_model_len_ < 1) throw_error(ErrorKind::kInvalidArgument, "--max-model-len must be positive");
  // Under tensor parallelism a block holds only this rank's KV heads; rank 0 sizes the cache for every rank.
  const ModelConfig& shard_config = model_->weights().shard_config;
  num_kv_blocks_ = choose_num_kv_blocks(args, shard_config, max_model_len_);
  if (model_->weights().shard.is_sharded()) {
    int32_t num_blocks = num_kv_blocks_;
    Communicator::world().broadcast(&num_blocks, sizeof(num_blocks));
    workers_ = std::make_unique<WorkerLink>(Communicator::world());
  }

  for (int id : config.eos_token_ids) eos_token_ids_.push_back(id);
  for (int32_t id : read_generation_eos(args.model)) eos_token_ids_.push_back(id);
  if (auto eos = tokenizer_->eos_token_id()) eos_token_ids_.push_back(*eos);
  std::sort(eos_token_ids_.begin(), eos_token_ids_.end());
  eos_token_ids_.erase(std::unique(eos_token_ids_.begin(), eos_token_ids_.end()), eos_token_ids_.end());

  for (const auto& [name, dir] : args.loras) {
    loras_.add(load_served_adapter(name, dir, config, args.max_lora_rank, model_->weights().shard));
  }
  if (!loras_.empty()) model_->set_lora_manager(&loras_);

  kv_cache_ = std::make_unique<PagedKVCache>(shard_config, num_kv_blocks_, args.block_size);
  if (workers_) std::cerr << shard_memory_line(*model_, *kv_cache_) << "\n";
  kv_manager_ = std::make_unique<KVCacheManager>(num_kv_blocks_, args.block_size, args.enable_prefix_caching);
  scheduler_ = std::make_unique<Scheduler>(scheduler_config(args, max_model_len_), *kv_manager_);
  runner_ = std::make_unique<ModelRunner>(*model_, *kv_cache_, workers_.get());
  outputs_ = std::make_unique<OutputProcessor>(*tokenizer_, eos_token_ids_, max_model_len_);
}

EngineCore::~EngineCore() = default;

void EngineCore::add_lora(const std::string& name, const std::string& dir) {
  if (int(loras_.names().size()) >= args_.max_loras) throw_error(ErrorKind::kInvalidArgument, "more LoRA adapters than --max-loras={}", args_.max_loras);
  LoraAdapter adapter = load_served_adapter(name, dir, model_->config(), args_.max_lora_rank, model_->weights().shard);
  // The base is loaded already: an adapter trained over another format can only be warned about.
  const std::string served = args_.quantization.empty() ? "none" : args_.quantization;
  if (!adapter.base_quantization.empty() && adapter.base_quantization != served) {
    std::cerr << fmt::format("WARNING:  LoRA adapter '{}' was trained over a {} base but the base is served as {}; "
                             "its answers may differ from training\n", name, adapter.base_quantization, served);
  }
  loras_.add(std::move(adapter));
  model_->set_lora_manager(&loras_);
  if (workers_) workers_->add_lora(name, dir);
}

// Request checks live where their facts are: SamplingParams::validate (the parameters), the Scheduler (prompt
// length against max_model_len, which with its KV capacity check also bounds the cache), the structured-output
// compiler (the constraint), and here only what needs the model: token ids inside its vocabulary.
void EngineCore::add_request(const std::string& request_id, const PromptInput& prompt, const SamplingParams& params,
                             OutputKind kind, const std::string& lora_name,
                             std::function<void(const RequestOutput&)> on_output) {
  params.validate();
  if (groups_.count(request_id)) throw_error(ErrorKind::kInvalidArgument, "request id '{}' is already in use", request_id);
  if (args_.max_queued_requests > 0 && scheduler_->num_waiting() >= args_.max_queued_requests) {
    throw_error(ErrorKind::kResourceExhausted, "the waiting queue is full ({} requests)", args_.max_queued_requests);
  }
  const int vocab = model_->config().vocab_size;
  std::vector<int32_t> ids = prompt.token_ids.empty() ? tokenizer_->encode(prompt.text, prompt.add_special_tokens) : prompt.token_ids;
  for (int32_t t : ids) {
    if (t < 0 || t >= vocab) throw_error(ErrorKind::kInvalidArgument, "prompt token id {} is outside the vocabulary (size {})", t, vocab);
  }
  for (const auto& [token, bias] : params.logit_bias) {
    if (token < 0 || token >= vocab) throw_error(ErrorKind::kInvalidArgument, "logit_bias token id {} is outside the vocabulary", token);
  }
  auto group = std::make_unique<RequestGroup>();
  group->request_id = request_id;
  group->prompt_token_ids = ids;
  group->params = params;
  if (params.structured_outputs) {
    group->constraint = params.structured_outputs->compiled ? params.structured_outputs->compiled
                                                            : structured_outputs().compile(*params.structured_outputs);
  }
  group->lora_slot = loras_.slot_of(lora_name);

  auto request = std::make_shared<Request>();
  request->request_id = internal_id(request_id, 0);
  request->prompt_token_ids = ids;
  request->max_tokens = params.max_tokens;
  request->lora_id = group->lora_slot;
  scheduler_->add_request(request);  // the last check: nothing below throws

  auto seq = std::make_unique<SequenceState>();
  seq->group = group.get();
  seq->rng.reseed(params.seed ? sample_seed(*params.seed, 0) : seed_rng_.next_u64());
  if (group->constraint) seq->matcher = std::make_unique<ConstraintMatcher>(group->constraint);
  seq->request = std::move(request);
  sequences_[seq->request->request_id] = seq.get();
  group->sequences.push_back(std::move(seq));
  outputs_->add_request(request_id, prompt.text, std::move(ids), params, kind, std::move(on_output));
  groups_[request_id] = std::move(group);
}

bool EngineCore::has_unfinished_requests() const { return !groups_.empty(); }

StructuredOutputCompiler& EngineCore::structured_outputs() {
  std::call_once(structured_outputs_once_, [this] {
    auto vocabulary = std::make_shared<TokenVocabulary>(*tokenizer_, model_->config().vocab_size, eos_token_ids_);
    structured_outputs_ = std::make_unique<StructuredOutputCompiler>(std::move(vocabulary), 64, args_.structured_max_recursion_depth);
  });
  return *structured_outputs_;
}

std::vector<int32_t> EngineCore::suppressed_tokens(const SequenceState& seq) const {
  const SamplingParams& p = seq.group->params;
  if (int(seq.request->output_token_ids.size()) >= p.min_tokens) return {};
  std::vector<int32_t> out = p.stop_token_ids;
  if (!p.ignore_eos) out.insert(out.end(), eos_token_ids_.begin(), eos_token_ids_.end());
  return out;
}

void EngineCore::process_token(SequenceState& seq, const SampledToken& sampled,
                               std::vector<std::pair<std::string, FinishReason>>& finished) {
  if (seq.matcher) seq.matcher->accept_token(sampled.token_id);
  const bool structure_terminated = seq.matcher && seq.matcher->is_terminated();
  if (auto reason = outputs_->process_token(seq.group->request_id, seq.index, sampled, structure_terminated)) {
    finished.emplace_back(seq.request->request_id, *reason);
  }
}

void EngineCore::fork_group(RequestGroup& g, SequenceState& parent, float* logits,
                            std::vector<std::pair<std::string, FinishReason>>& finished) {
  g.forked = true;
  const int vocab = model_->config().vocab_size;
  std::vector<float> scratch(vocab);
  for (int i = 1; i < g.params.n; ++i) {
    auto seq = std::make_unique<SequenceState>();
    seq->group = &g;
    seq->index = i;
    seq->rng.reseed(g.params.seed ? sample_seed(*g.params.seed, i) : seed_rng_.next_u64());
    // The fork happens at the first sample, so every child starts where the parent started.
    if (g.constraint) seq->matcher = std::make_unique<ConstraintMatcher>(g.constraint);
    auto child = std::make_shared<Request>();
    child->request_id = internal_id(g.request_id, i);
    child->prompt_token_ids = g.prompt_token_ids;
    child->max_tokens = g.params.max_tokens;
    child->lora_id = g.lora_slot;
    seq->request = child;

    std::copy_n(logits, vocab, scratch.data());
    SamplingContext ctx{&g.params, g.prompt_token_ids, {}, {}, &seq->rng};
    std::vector<int32_t> suppressed = g.params.min_tokens > 0 ? suppressed_tokens(*seq) : std::vector<int32_t>{};
    ctx.suppressed_token_ids = suppressed;
    if (seq->matcher) ctx.allowed_token_mask = seq->matcher->allowed_tokens();
    SampledToken sampled = sample_token(scratch.data(), vocab, ctx);
    child->output_token_ids.push_back(sampled.token_id);
    scheduler_->fork_request(parent.request->request_id, child);
    sequences_[child->request_id] = seq.get();
    outputs_->add_sample(g.request_id, i);
    SequenceState& s = *seq;
    g.sequences.push_back(std::move(seq));
    process_token(s, sampled, finished);
  }
  outputs_->mark_all_samples_added(g.request_id);
}

// What the output processor ended (EOS, stop strings, length) ends in the scheduler too, freeing the blocks.
void EngineCore::finish_in_scheduler(const std::vector<std::pair<std::string, FinishReason>>& finished) {
  std::vector<std::string> stopped, capped;
  for (const auto& [id, reason] : finished) (reason == FinishReason::kLength ? capped : stopped).push_back(id);
  if (!stopped.empty()) scheduler_->finish_requests(stopped, RequestStatus::kFinishedStopped);
  if (!capped.empty()) scheduler_->finish_requests(capped, RequestStatus::kFinishedLengthCapped);
}

void EngineCore::sample(const SchedulerOutput& output, const std::vector<int>& sample_rows) {
  const int vocab = model_->config().vocab_size;
  std::map<std::string, std::vector<int32_t>> sampled_tokens;
  std::vector<std::pair<SequenceState*, SampledToken>> sampled;
  std::vector<std::pair<SequenceState*, std::vector<float>>> to_fork;
  for (size_t s = 0; s < output.scheduled.size(); ++s) {
    if (sample_rows[s] < 0) continue;
    SequenceState& seq = *sequences_.at(output.scheduled[s].request_id);
    RequestGroup& g = *seq.group;
    float* logits = runner_->logits_row(sample_rows[s]);
    if (g.params.n > 1 && !g.forked) to_fork.emplace_back(&seq, std::vector<float>(logits, logits + vocab));
    std::vector<int32_t> suppressed = suppressed_tokens(seq);
    SamplingContext ctx{&g.params, seq.request->prompt_token_ids, seq.request->output_token_ids, suppressed, &seq.rng};
    if (seq.matcher) ctx.allowed_token_mask = seq.matcher->allowed_tokens();
    SampledToken token = sample_token(logits, vocab, ctx);
    sampled_tokens[seq.request->request_id].push_back(token.token_id);
    sampled.emplace_back(&seq, std::move(token));
  }
  scheduler_->update_from_output(output, sampled_tokens);

  std::vector<std::pair<std::string, FinishReason>> finished;
  std::vector<RequestGroup*> touched;
  for (auto& [seq, token] : sampled) {
    process_token(*seq, token, finished);
    if (std::find(touched.begin(), touched.end(), seq->group) == touched.end()) touched.push_back(seq->group);
  }
  // Forks first: a parent that finished at its first token is still running in the scheduler until after them.
  for (auto& [seq, logits] : to_fork) fork_group(*seq->group, *seq, logits.data(), finished);
  finish_in_scheduler(finished);
  for (RequestGroup* g : touched) {
    const std::string id = g->request_id;
    if (outputs_->emit(id)) forget_group(id);
  }
}

void EngineCore::forget_group(const std::string& request_id) {
  auto it = groups_.find(request_id);
  for (auto& seq : it->second->sequences) sequences_.erase(seq->request->request_id);
  groups_.erase(it);
}

void EngineCore::abort_request(const std::string& request_id) {
  auto it = groups_.find(request_id);
  if (it == groups_.end()) return;
  RequestGroup& g = *it->second;
  std::vector<std::string> ids;
  for (int index : outputs_->abort(request_id)) ids.push_back(g.sequences.at(index)->request->request_id);
  scheduler_->finish_requests(ids, RequestStatus::kFinishedAborted);
  if (outputs_->emit(request_id)) forget_group(request_id);
}

void EngineCore::abort_all() {
  std::vector<std::string> ids;
  for (const auto& [id, group] : groups_) ids.push_back(id);
  for (const auto& id : ids) abort_request(id);
}

void EngineCore::step() {
  SchedulerOutput output = scheduler_->schedule();
  if (output.scheduled.empty()) return;
  const std::vector<int>& rows = runner_->execute(output);
  peak_blocks_used_ = std::max(peak_blocks_used_, num_kv_blocks_ - kv_manager_->num_free_blocks());
  sample(output, rows);
}

int EngineCore::num_free_kv_blocks() const { return kv_manager_->num_free_blocks(); }

void EngineCore::reset_prefix_cache() { kv_manager_->reset_prefix_cache(); }

EngineStats EngineCore::stats() const {
  EngineStats s = outputs_->stats();
  s.num_requests_running = scheduler_->num_running();
  s.num_requests_waiting = scheduler_->num_waiting();
  s.kv_cache_usage = kv_manager_->usage();
  s.num_preemptions_total = scheduler_->num_preemptions_total();
  s.prefix_cache_queries_total = kv_manager_->prefix_cache_stats().num_query_tokens;
  s.prefix_cache_hits_total = kv_manager_->prefix_cache_stats().num_hit_tokens;
  return s;
}

}  // namespace pagedllm
